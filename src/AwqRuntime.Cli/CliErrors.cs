using System.CommandLine;

namespace AwqRuntime.Cli;

/// <summary>
/// Turns exceptions into the one-line error every command prints ("awq: error: what and where")
/// and exit code 1, instead of a stack trace. AWQ_DEBUG=1 prints the full exception.
/// </summary>
internal static class CliErrors
{
    /// <summary>
    /// Parses and runs. A command line that does not parse (unknown option, value of the wrong type,
    /// missing argument) gets the same one-line treatment as a failing command, instead of
    /// System.CommandLine's default of error lines plus the whole help text.
    /// </summary>
    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count == 0) return parse.Invoke();
        var messages = string.Join("; ", parse.Errors.Select(e => e.Message.ReplaceLineEndings(" ").Trim().TrimEnd('.')));
        var help = parse.CommandResult.Command is RootCommand ? "awq --help" : $"awq {parse.CommandResult.Command.Name} --help";
        Console.Error.WriteLine($"awq: error: {messages} (see '{help}')");
        return 1;
    }

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
