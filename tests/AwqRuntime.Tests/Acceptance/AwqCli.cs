using System.Diagnostics;
using System.Text;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>What one run of the `awq` executable produced.</summary>
internal sealed record CliResult(string[] Args, int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Everything a failed assertion needs to show.</summary>
    public override string ToString() =>
        $"awq {string.Join(' ', Args)}\nexit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs the built CLI (awq.dll, which sits beside the test assembly because the test project
/// references the CLI project) as a child process through the same dotnet host, exactly as a user
/// would: real argument parsing, real stdout/stderr, real exit code.
/// </summary>
internal static class AwqCli
{
    private static readonly string AwqDll = Path.Combine(AppContext.BaseDirectory, "awq.dll");

    public static CliResult Run(params string[] args) => Run(TimeSpan.FromSeconds(120), args);

    public static CliResult Run(TimeSpan timeout, params string[] args) => Run(timeout, null, args);

    /// <summary>Runs with <paramref name="stdin"/> piped in (then closed), as `echo … | awq chat` would.</summary>
    public static CliResult RunWithInput(string stdin, params string[] args) => Run(TimeSpan.FromSeconds(120), stdin, args);

    private static CliResult Run(TimeSpan timeout, string? stdin, string[] args)
    {
        Assert.True(File.Exists(AwqDll), $"{AwqDll} not found (the test project must reference AwqRuntime.Cli)");
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin != null,
            StandardOutputEncoding = new UTF8Encoding(false),
            StandardErrorEncoding = new UTF8Encoding(false),
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(AwqDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("AWQ_DEBUG"); // would add stack traces to the one-line errors under test

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the dotnet host");
        if (stdin != null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        // Both pipes are drained concurrently: a child blocked on a full stderr pipe would never exit.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"awq {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s\n{stderr.Result}");
        }
        process.WaitForExit(); // lets the output readers reach end of stream
        return new CliResult(args, process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>
    /// Starts the CLI and kills it (SIGKILL, no chance to clean up) after <paramref name="after"/>, as
    /// `kill -9` would. Returns false when it had already exited by then.
    /// </summary>
    public static bool StartAndKill(TimeSpan after, params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(AwqDll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the dotnet host");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (process.WaitForExit(after)) return false;
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return true;
    }

    /// <summary>Runs and requires exit code 0.</summary>
    public static CliResult Succeed(params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    /// <summary>
    /// Runs, and requires the failure every command promises: exit code 1, nothing but one
    /// "awq: error: ..." line on stderr (no stack trace, no help text), and that line naming
    /// <paramref name="mustMention"/>. Returns the line.
    /// </summary>
    public static string FailWithOneLine(string mustMention, params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == 1, r.ToString());
        var lines = r.StderrLines;
        Assert.True(lines.Length == 1, $"expected one error line\n{r}");
        Assert.StartsWith("awq: error: ", lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.True(lines[0].Contains(mustMention, StringComparison.Ordinal), $"the error does not mention '{mustMention}'\n{r}");
        Assert.True(r.Stdout.Trim().Length == 0, $"nothing belongs on stdout after an error\n{r}");
        return lines[0];
    }

    // `dotnet test` exports DOTNET_HOST_PATH for its children; the test host itself usually runs
    // under the dotnet executable too.
    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host)) return host;
        var self = Environment.ProcessPath;
        if (self != null && Path.GetFileNameWithoutExtension(self) == "dotnet") return self;
        return "dotnet";
    }
}
