using System.CommandLine;
using System.Text.Json;
using AwqRuntime.Native;
using Spectre.Console;

namespace AwqRuntime.Cli;

/// <summary>The options every command shares, and what they do, in one place.</summary>
internal static class CliOptions
{
    public static Argument<string> Model() => new("model")
    {
        Description = "Model: a Hugging Face folder (plain or AWQ), a .gguf file, or a llama2.c .bin (with --tokenizer)",
    };

    public static Option<string?> Tokenizer() => new("--tokenizer")
    {
        Description = "Tokenizer file (llama2.c tokenizer.bin, tokenizer.model, tokenizer.json, .gguf); needed for llama2.c checkpoints",
    };

    public static Option<int> Threads() => new("--threads", "-t")
    {
        Description = "Worker threads for the kernels (default: all processors)",
    };

    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "No progress output" };

    public static Option<bool> Json() => new("--json") { Description = "Print the result as JSON on stdout" };

    /// <summary>Applies --threads (0 keeps the default).</summary>
    public static void ApplyThreads(int threads)
    {
        if (threads < 0) throw new ArgumentException($"--threads must be positive (got {threads})");
        if (threads > 0) Kernels.Threads = threads;
    }

    /// <summary>Progress and status go to stderr so that --json output on stdout stays clean.</summary>
    public static IAnsiConsole Status { get; } = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void PrintJson(object value) => Console.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
}
