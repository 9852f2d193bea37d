using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Native;

namespace AwqRuntime.Comparison.Bench;

/// <summary>
/// `awq bench`'s engine: every subject at every thread count, one after another in one run, on the
/// same prompt tokens — llama-bench's pp/tg tests (<see cref="SpeedBenchmark"/>) — and, with the
/// roofline, this machine's read bandwidth at each thread count measured just before its rows.
/// </summary>
public static class BenchRunner
{
    public static IReadOnlyList<BenchRow> Run(IReadOnlyList<BenchSubject> subjects, IReadOnlyList<int> threads, int[] prompt, int firstToken,
        bool roofline, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        if (subjects.Count == 0) throw new ArgumentException("nothing to benchmark");
        if (threads.Count == 0 || threads.Any(t => t < 1)) throw new ArgumentException("thread counts must be positive");
        var rows = new List<BenchRow>();
        var step = 0;
        var total = threads.Count * subjects.Count;
        foreach (var t in threads)
        {
            double? bandwidth = null;
            if (roofline)
            {
                progress?.Report($"measuring read bandwidth with {t} thread{(t == 1 ? "" : "s")}");
                bandwidth = ReadBandwidth.Measure(t);
                progress?.Report(FormattableString.Invariant($"read bandwidth, {t} thread{(t == 1 ? "" : "s")}: {bandwidth / 1e9:F1} GB/s"));
            }
            foreach (var s in subjects)
            {
                cancel.ThrowIfCancellationRequested();
                progress?.Report($"[{++step}/{total}] {s.Name}, {t} thread{(t == 1 ? "" : "s")}");
                var r = s.Measure(t, prompt, firstToken);
                rows.Add(new BenchRow(s.Name, s.Runtime, t, s.BytesPerToken, r.PrefillTokensPerSecond, r.DecodeTokensPerSecond, bandwidth));
            }
        }
        return rows;
    }

    /// <summary>Our runtime on <paramref name="model"/>; the kernels' thread count is set for the run and restored after.</summary>
    public static BenchSubject Ours(string name, LlamaModel model, int decodeTokens, int runs, string runtime = "ours") =>
        new(name, runtime, BytesPerToken.Of(model), (threads, prompt, first) =>
        {
            var before = Kernels.Threads;
            Kernels.Threads = threads;
            try
            {
                return SpeedBenchmark.Ours(model, prompt, first, decodeTokens, runs);
            }
            finally
            {
                Kernels.Threads = before;
            }
        });

    /// <summary>llama.cpp (through LLamaSharp) on a GGUF file, loaded with the thread count of each run; llama-bench's defaults otherwise (F16 KV cache).</summary>
    public static BenchSubject LlamaCpp(string name, string gguf, int decodeTokens, int runs) =>
        new(name, "llama.cpp", BytesPerToken.Of(gguf), (threads, prompt, first) =>
        {
            using var model = LlamaCppModel.Load(gguf, new LlamaCppOptions
            {
                ContextSize = Math.Max(prompt.Length, decodeTokens + 1),
                Threads = threads,
            });
            return SpeedBenchmark.LlamaCpp(model, prompt, first, decodeTokens, runs);
        });
}
