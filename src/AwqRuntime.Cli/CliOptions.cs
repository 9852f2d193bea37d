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
        Description = "Worker threads for the kernels (0 or omitted: all processors; more than the processors is allowed but warned about)",
    };

    public static Option<bool> AllowNonFinite() => new("--allow-nonfinite")
    {
        Description = "Load weights that hold NaN or ±Inf instead of refusing the checkpoint",
    };

    public static Option<bool> Quiet() => new("--quiet", "-q") { Description = "No progress output" };

    public static Option<bool> Json() => new("--json") { Description = "Print the result as JSON on stdout" };

    /// <summary>Applies --threads: 0 keeps the default (all processors); more threads than processors oversubscribe the cores, which only slows the kernels down, so it is warned about on stderr.</summary>
    public static void ApplyThreads(int threads)
    {
        if (threads < 0) throw new ArgumentException($"--threads must be 0 (all processors) or a positive count (got {threads})");
        if (threads > Environment.ProcessorCount)
            Console.Error.WriteLine($"awq: warning: --threads {threads} is more than the {Environment.ProcessorCount} processors here; the kernels will oversubscribe the cores");
        if (threads > 0) Kernels.Threads = threads;
    }

    /// <summary>An integer flag's value inside [<paramref name="min"/>, <paramref name="max"/>], else an error naming the flag and the range.</summary>
    public static int InRange(int value, string flag, int min, int max = int.MaxValue, string? meaning = null)
    {
        if (value >= min && value <= max) return value;
        var range = max == int.MaxValue ? $"≥ {min}" : $"in [{min}, {max}]";
        throw new ArgumentException($"{flag} must be {range}{(meaning is null ? "" : $" ({meaning})")} (got {value})");
    }

    /// <summary>The text of a file a flag names; a folder or a missing file is an error naming the flag.</summary>
    public static string ReadTextFile(string path, string flag)
    {
        if (Directory.Exists(path)) throw new ArgumentException($"{flag} {path} is a directory, not a text file");
        if (!File.Exists(path)) throw new FileNotFoundException($"{flag} {path}: no such file", path);
        return File.ReadAllText(path);
    }

    /// <summary>
    /// An evaluation window (--ctx) for a model: when the flag was not given, the default shortened to
    /// the model's context if that is shorter; a window given longer than the model's context is an error
    /// (positions beyond what the model was trained on measure nothing meaningful).
    /// </summary>
    public static int EvalWindow(ParseResult parse, Option<int> ctx, AwqRuntime.Model.LlamaModel model) =>
        EvalWindow(parse, ctx, model.Config.MaxPositionEmbeddings, model.ContextOrigin);

    /// <summary><see cref="EvalWindow(ParseResult, Option{int}, AwqRuntime.Model.LlamaModel)"/> from the context length and the field that set it.</summary>
    public static int EvalWindow(ParseResult parse, Option<int> ctx, int context, string contextOrigin)
    {
        var value = parse.GetValue(ctx);
        var given = parse.GetResult(ctx) is { Implicit: false };
        if (!given) return Math.Min(value, context);
        InRange(value, "--ctx", 2, meaning: "tokens per window; the second half is scored");
        if (value > context)
            throw new ArgumentException($"--ctx {value} is longer than the model's context of {context} ({contextOrigin})");
        return value;
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
