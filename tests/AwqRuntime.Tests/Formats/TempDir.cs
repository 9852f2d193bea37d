namespace AwqRuntime.Tests.Formats;

/// <summary>A fresh folder under the system temp dir, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir(string tag = "fmt")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"awq-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A mapped file still open on another thread must not fail the test run.
        }
    }
}

internal static class CorruptionAssert
{
    /// <summary>Opening must either succeed or throw InvalidDataException whose message names <paramref name="mustName"/>.</summary>
    public static void OpensOrFailsClearly(Action open, string mustName, string context)
    {
        try
        {
            open();
        }
        catch (InvalidDataException ex)
        {
            Assert.True(ex.Message.Contains(mustName), $"{context}: message does not name '{mustName}': {ex.Message}");
        }
        catch (Exception ex)
        {
            Assert.Fail($"{context}: {ex.GetType().Name} instead of InvalidDataException: {ex.Message}");
        }
    }

    /// <summary>Opening must throw exactly one InvalidDataException naming the file and containing <paramref name="problem"/>.</summary>
    public static InvalidDataException FailsClearly(Action open, string mustName, string problem)
    {
        var ex = Assert.Throws<InvalidDataException>(open);
        Assert.Contains(mustName, ex.Message);
        Assert.Contains(problem, ex.Message);
        return ex;
    }
}
