using System.Buffers.Binary;
using System.Text;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// Option values outside their range are one-line errors naming the flag and the range (they used to be
/// accepted: --top-p 2, eval --chunks -1, --ctx 0); an evaluation window follows the model's context.
/// </summary>
public class CliOptionRangeTests
{
    private static string Gguf => SharedData.Stories260KGguf;

    [Theory]
    [InlineData("--top-p", "2", "top-p must be in (0, 1]")]
    [InlineData("--top-p", "0", "top-p must be in (0, 1]")]
    [InlineData("--threads", "-1", "--threads must be 0 (all processors) or a positive count")]
    [InlineData("--ctx", "-5", "--ctx must be ≥ 0")]
    [InlineData("--max-tokens", "-2", "max tokens must be ≥ 0 (got -2)")]
    public void Generate_refuses_out_of_range_values(string flag, string value, string message) =>
        AwqCli.FailWithOneLine(message, ["generate", Gguf, .. flag == "--max-tokens" ? Array.Empty<string>() : ["-n", "2"], flag, value]);

    [Theory]
    [InlineData("--body-timeout", "0", "--body-timeout must be a number of seconds in (0, 86400]")]
    [InlineData("--headers-timeout", "-1", "--headers-timeout must be a number of seconds in (0, 86400]")]
    [InlineData("--idle-timeout", "1e9", "--idle-timeout must be a number of seconds in (0, 86400]")]
    [InlineData("--max-connections", "0", "--max-connections must be positive")]
    public void Serve_refuses_out_of_range_limits(string flag, string value, string message) =>
        AwqCli.FailWithOneLine(message, "serve", Gguf, "--port", "0", flag, value);

    [Fact]
    public void More_threads_than_processors_is_warned_about_on_stderr()
    {
        var threads = (Environment.ProcessorCount + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var r = AwqCli.Succeed("generate", Gguf, "-n", "2", "--temp", "0", "--quiet", "--threads", threads);
        Assert.Contains($"awq: warning: --threads {threads} is more than the {Environment.ProcessorCount} processors", r.Stderr);
    }

    [Theory]
    [InlineData("--chunks", "-1", "--chunks must be ≥ 0")]
    [InlineData("--ctx", "0", "--ctx must be ≥ 2")]
    [InlineData("--ctx", "-5", "--ctx must be ≥ 2")]
    [InlineData("--ctx", "1024", "--ctx 1024 is longer than the model's context of 512 (")]
    public void Eval_refuses_out_of_range_values(string flag, string value, string message) =>
        // The llama2.c checkpoint: its seq_len is the 512 positions stories260K was trained on.
        AwqCli.FailWithOneLine(message, ["eval", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--data", SharedData.EvalText,
            .. flag == "--chunks" ? Array.Empty<string>() : ["--chunks", "1"], flag, value]);

    /// <summary>compare and demo follow eval's rule for the window: a --ctx past the model's context is refused, naming the field.</summary>
    [Theory]
    [InlineData("compare")]
    [InlineData("demo")]
    public void Compare_refuses_a_window_longer_than_the_model_context(string command) =>
        AwqCli.FailWithOneLine($"--ctx 1024 is longer than the model's context of 512 ({SharedData.Stories260KBin}: seq_len)",
            [command, .. command == "demo" ? new[] { "--model" } : [], SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--data", SharedData.EvalText,
                "--ctx", "1024", "--work", Path.Combine(Path.GetTempPath(), $"awq-ctx-{Guid.NewGuid():N}")]);

    [Fact]
    public void Eval_data_that_is_a_directory_says_so()
    {
        using var tmp = new TempDir("cli-dir");
        AwqCli.FailWithOneLine($"--data {tmp.Path} is a directory", "eval", Gguf, "--data", tmp.Path);
    }

    [Fact]
    public void A_llama2c_reference_without_a_tokenizer_asks_for_ref_tokenizer() =>
        AwqCli.FailWithOneLine("--ref-tokenizer", "eval", Gguf, "--data", SharedData.EvalText, "--chunks", "1", "--ref", SharedData.Stories260KBin);

    [Fact]
    public void The_default_window_shortens_to_a_shorter_model_context()
    {
        using var tmp = new TempDir("cli-ctx");
        var bytes = File.ReadAllBytes(Gguf);
        // llama.context_length: key string, then its u32 type code (4), then the value.
        var key = Encoding.ASCII.GetBytes("llama.context_length");
        var at = bytes.AsSpan().IndexOf(key) + key.Length;
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)));
        Assert.Equal(2048u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 4))); // as llama.cpp's converter wrote it
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 4), 128);
        var model = tmp.File("ctx128.gguf");
        File.WriteAllBytes(model, bytes);
        var r = AwqCli.Succeed("eval", model, "--data", SharedData.EvalText, "--chunks", "2");
        Assert.Contains("windows    : 2 x 128 tokens", r.Stdout);
        AwqCli.FailWithOneLine("--ctx 512 is longer than the model's context of 128", "eval", model, "--data", SharedData.EvalText, "--ctx", "512");
    }
}

/// <summary>Every command takes --threads, as the README promises, and checks it the same way.</summary>
public class CliThreadsEverywhereTests
{
    [Fact]
    public void Every_command_has_a_threads_option()
    {
        var root = AwqRuntime.Cli.Program.BuildRoot();
        var missing = root.Subcommands.Where(c => !c.Options.Any(o => o.Name == "--threads")).Select(c => c.Name).ToList();
        Assert.True(missing.Count == 0, $"commands without --threads: {string.Join(", ", missing)}");
    }

    [Theory]
    [InlineData("info")]
    [InlineData("inspect", "--params", "7e9")]
    public void A_negative_thread_count_is_refused_by_commands_that_run_nothing_in_parallel(params string[] args) =>
        AwqCli.FailWithOneLine("--threads must be 0 (all processors) or a positive count", [.. args, "--threads", "-1"]);
}
