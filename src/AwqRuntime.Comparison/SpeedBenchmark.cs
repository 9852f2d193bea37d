using System.Diagnostics;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;

namespace AwqRuntime.Comparison;

/// <summary>
/// llama-bench's two tests, run the same way on both runtimes: prefill = one batch of the prompt from
/// an empty cache, logits of the last position only (pp512); decode = tokens generated greedily one
/// at a time after BOS from an empty cache, each step one forward pass plus an argmax (tg128). One
/// untimed warm-up of each, then the median of <c>runs</c> timed runs.
/// </summary>
public static class SpeedBenchmark
{
    public static SpeedResult Ours(LlamaModel model, int[] prompt, int firstToken, int decodeTokens, int runs)
    {
        Check(prompt, decodeTokens, runs);
        var cache = model.CreateCache(Math.Max(prompt.Length, decodeTokens + 1));
        var buffers = model.CreateBuffers(Math.Clamp(prompt.Length, 1, 512));
        var logits = new float[model.Config.VocabSize];

        double Prefill()
        {
            cache.Clear();
            var clock = Stopwatch.StartNew();
            model.Forward(prompt, cache, buffers, logits, LogitsMode.Last);
            return prompt.Length / clock.Elapsed.TotalSeconds;
        }

        double Decode()
        {
            cache.Clear();
            model.Forward([firstToken], cache, buffers, logits, LogitsMode.Last);
            var next = Generation.Sampler.ArgMax(logits);
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < decodeTokens; i++)
            {
                model.Forward([next], cache, buffers, logits, LogitsMode.Last);
                next = Generation.Sampler.ArgMax(logits);
            }
            return decodeTokens / clock.Elapsed.TotalSeconds;
        }

        return Measure(prompt.Length > 0 ? Prefill : null, decodeTokens > 0 ? Decode : null, runs);
    }

    public static SpeedResult LlamaCpp(LlamaCppModel model, int[] prompt, int firstToken, int decodeTokens, int runs)
    {
        Check(prompt, decodeTokens, runs);
        // maxTokens 0: only the prompt's llama_decode is timed; decode: the first token comes from
        // BOS's logits, then decodeTokens single-token steps (LlamaCppGenerationResult.DecodeSteps).
        double Prefill() => model.Generate(prompt, 0, LlamaCppSamplingOptions.Greedy, stopAtEndOfGeneration: false).PrefillTokensPerSecond;
        double Decode()
        {
            var r = model.Generate([firstToken], decodeTokens + 1, LlamaCppSamplingOptions.Greedy, stopAtEndOfGeneration: false);
            if (r.DecodeSteps != decodeTokens) throw new InvalidOperationException($"llama.cpp ran {r.DecodeSteps} decode steps, {decodeTokens} expected");
            return r.DecodeTokensPerSecond;
        }
        return Measure(prompt.Length > 0 ? Prefill : null, decodeTokens > 0 ? Decode : null, runs);
    }

    private static SpeedResult Measure(Func<double>? prefill, Func<double>? decode, int runs)
    {
        static double Median(Func<double>? run, int runs)
        {
            if (run == null) return double.NaN;
            run(); // warm-up: first-touch of weights and buffers, thread-pool start
            var samples = new double[runs];
            for (var i = 0; i < runs; i++) samples[i] = run();
            return Statistics.Median(samples);
        }
        return new SpeedResult(Median(prefill, runs), Median(decode, runs));
    }

    private static void Check(int[] prompt, int decodeTokens, int runs)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfNegative(decodeTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
    }
}
