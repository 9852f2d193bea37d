using System.CommandLine;
using System.Globalization;
using AwqRuntime.Evaluation;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>
/// `awq eval MODEL --data FILE [--ref MODEL]`: perplexity in llama.cpp's convention (windows of
/// --ctx, second half scored) and, against a reference model, the KL-divergence metrics of
/// llama.cpp's --kl-divergence, plus size and bits per weight counted from the bytes.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var data = new Option<string>("--data") { Description = "Evaluation text file", Required = true };
        var reference = new Option<string?>("--ref") { Description = "Reference model (usually the full-precision original) for KL divergence" };
        var refTokenizer = new Option<string?>("--ref-tokenizer") { Description = "Tokenizer of the reference model (default: --tokenizer)" };
        var ctx = new Option<int>("--ctx") { Description = "Window length, at most the model's context (default: 512, or the model's context when shorter)", DefaultValueFactory = _ => 512 };
        var chunks = new Option<int>("--chunks") { Description = "Evaluate at most this many windows (0 = all)" };
        var runtime = new RuntimeChoices();
        var threads = CliOptions.Threads();
        var allowNonFinite = CliOptions.AllowNonFinite();
        var quiet = CliOptions.Quiet();
        var json = CliOptions.Json();
        var cmd = new Command("eval", "Perplexity and (with --ref) KL divergence on a text, llama.cpp's way")
        {
            model, tokenizer, data, reference, refTokenizer, ctx, chunks, runtime.Classifier, runtime.Kernel, runtime.Device, threads, allowNonFinite, quiet, json,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            var modelPath = parse.GetValue(model)!;
            var maxChunks = CliOptions.InRange(parse.GetValue(chunks), "--chunks", 0, meaning: "0 = all windows") is > 0 and var c ? c : int.MaxValue;
            var refPath = parse.GetValue(reference);
            if (refPath != null && parse.GetValue(refTokenizer) == null && parse.GetValue(tokenizer) == null
                && File.Exists(refPath) && Formats.CheckpointLoader.Detect(refPath) == Formats.CheckpointFormat.Llama2c)
                throw new ArgumentException($"--ref {refPath} is a llama2.c checkpoint, which carries no tokenizer; give one with --ref-tokenizer");
            var text = CliOptions.ReadTextFile(parse.GetValue(data)!, "--data");
            using var m = AwqModel.Load(modelPath, parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
            runtime.Apply(parse, m);
            var window = CliOptions.EvalWindow(parse, ctx, m.Model);
            var tokens = m.Tokenizer.Encode(text, addBos: true);
            var windows = EvalWindows.Build(tokens, window, m.Tokenizer.Spec.BosId, maxChunks);
            var size = CheckpointSize.Measure(modelPath);
            var test = new RuntimeLogitsSource(m.Model, modelPath);
            var quietRun = parse.GetValue(quiet) || parse.GetValue(json);

            object result;
            if (refPath == null)
            {
                var ppl = WithProgress(quietRun, $"evaluating {windows.Count} windows", p => Evaluator.Perplexity(test, windows, p));
                result = new EvalResult(modelPath, windows.Count, ppl.Count, ppl.Perplexity, ppl.MeanNll, ppl.MeanNllStdError, size, null, null);
            }
            else
            {
                using var r = AwqModel.Load(refPath, parse.GetValue(refTokenizer) ?? parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
                var refIds = r.Tokenizer.Encode(text, addBos: true);
                if (!refIds.AsSpan().SequenceEqual(tokens))
                    throw new InvalidDataException($"{refPath} tokenizes the evaluation text differently from {modelPath}; KL divergence needs the same token stream");
                var refSource = new RuntimeLogitsSource(r.Model, refPath);
                var cmp = WithProgress(quietRun, $"comparing {windows.Count} windows", p => Evaluator.Compare(refSource, [test], windows, p))[0];
                result = new EvalResult(modelPath, windows.Count, cmp.Count, cmp.Test.Perplexity, cmp.Test.MeanNll, cmp.Test.MeanNllStdError, size,
                    refPath, cmp.Summary());
            }
            if (parse.GetValue(json)) CliOptions.PrintJson(result);
            else Print((EvalResult)result, window);
            return 0;
        }));
        return cmd;
    }

    internal sealed record EvalResult(string Model, int Windows, long ScoredTokens, double Perplexity, double MeanNll, double MeanNllStdError,
        CheckpointSize Size, string? Reference, DistributionMetrics? Comparison);

    internal static T WithProgress<T>(bool quiet, string title, Func<IProgress<(int Done, int Total)>, T> body)
    {
        if (quiet) return body(new Progress<(int, int)>());
        T result = default!;
        CliOptions.Status.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title);
                result = body(new SyncProgress<(int Done, int Total)>(p =>
                {
                    task.MaxValue = p.Total;
                    task.Value = p.Done;
                }));
            });
        return result;
    }

    private static void Print(EvalResult r, int ctx)
    {
        static string F(double v, string fmt = "F4") => v.ToString(fmt, CultureInfo.InvariantCulture);
        Console.WriteLine($"model      : {r.Model}");
        Console.WriteLine($"windows    : {r.Windows} x {ctx} tokens, {r.ScoredTokens} scored (second half of each window)");
        Console.WriteLine($"perplexity : {F(r.Perplexity)} (mean NLL {F(r.MeanNll, "F5")} ± {F(r.MeanNllStdError, "F5")})");
        Console.WriteLine($"size       : {r.Size.TensorBytes:N0} bytes of tensors ({F(r.Size.BitsPerWeight, "F3")} bits/weight), linears {F(r.Size.LinearBitsPerWeight, "F3")} bits/weight");
        if (r.Comparison is { } c)
        {
            Console.WriteLine($"reference  : {r.Reference} (perplexity {F(c.ReferencePerplexity)})");
            Console.WriteLine($"KLD        : mean {F(c.MeanKld, "G5")}, p99 {F(c.KldP99, "G5")}, max {F(c.MaxKld, "G5")}");
            Console.WriteLine($"top-1      : {F(c.Top1Agreement * 100, "F2")} % same top token");
            Console.WriteLine($"RMS Δp     : {F(c.RmsDeltaP * 100, "F3")} %");
        }
    }
}

/// <summary>An IProgress that reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, too late for a live bar).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
