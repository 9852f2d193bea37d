namespace AwqRuntime.Cli;

/// <summary>
/// Turns exceptions into the one-line error every command prints ("awq: error: what and where")
/// and exit code 1, instead of a stack trace. AWQ_DEBUG=1 prints the full exception.
/// </summary>
internal static class CliErrors
{
    public static int Run(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Report(ex);
        }
    }

    public static async Task<int> RunAsync(Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("awq: cancelled");
            return 130;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return Report(ex);
        }
    }

    private static int Report(Exception ex)
    {
        var message = ex.Message.ReplaceLineEndings(" ");
        Console.Error.WriteLine($"awq: error: {message}");
        if (Environment.GetEnvironmentVariable("AWQ_DEBUG") == "1") Console.Error.WriteLine(ex);
        return 1;
    }
}
