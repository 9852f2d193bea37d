using System.Diagnostics;
using LLama;
using LLama.Batched;
using LLama.Common;
using LLama.Native;

namespace AwqRuntime.LlamaSharp;

/// <summary>What <see cref="LlamaCppBatchedDecode.Run"/> measured: wall time of prefill + decode of all sequences, and their greedy tokens.</summary>
public sealed record LlamaCppBatchedResult(double Seconds, int GeneratedTokens, IReadOnlyList<int[]> Outputs)
{
    /// <summary>Generated tokens per second over all sequences together.</summary>
    public double AggregateTokensPerSecond => GeneratedTokens / Seconds;
}

/// <summary>
/// llama.cpp's own continuous batching through LLamaSharp's <see cref="BatchedExecutor"/>: several
/// conversations in one context, each prompted, then decoded greedily one token per conversation per
/// Infer() — the reference for our batching scheduler's throughput.
/// </summary>
public static class LlamaCppBatchedDecode
{
    public static LlamaCppBatchedResult Run(string ggufPath, IReadOnlyList<int[]> prompts, int tokens, int threads, KvCacheType kvCache = KvCacheType.F16)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompts", nameof(prompts));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        LlamaCppNative.EnsureLoaded();
        var ctx = prompts.Sum(p => p.Length + tokens) + 16;
        var kv = kvCache == KvCacheType.F32 ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16;
        var parameters = new ModelParams(Path.GetFullPath(ggufPath))
        {
            ContextSize = (uint)ctx, BatchSize = (uint)Math.Max(512, prompts.Sum(p => p.Length)), Threads = threads, BatchThreads = threads,
            GpuLayerCount = 0, TypeK = kv, TypeV = kv, SeqMax = (uint)prompts.Count,
        };
        using var capture = LlamaCppLog.BeginCapture();
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var executor = new BatchedExecutor(weights, parameters, null);
        var conversations = prompts.Select(_ => executor.Create()).ToArray();
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < prompts.Count; i++)
            conversations[i].Prompt(prompts[i].Select(t => (LLamaToken)t).ToArray().AsSpan());
        for (var step = 0; step < tokens; step++)
        {
            var status = executor.Infer().GetAwaiter().GetResult();
            if (status != DecodeResult.Ok) throw new LlamaCppException($"llama.cpp's batched decode failed: {status}", ggufPath, capture.ErrorsWithContext());
            for (var i = 0; i < conversations.Length; i++)
            {
                var logits = conversations[i].Sample();
                var next = ArgMax(logits);
                outputs[i].Add(next);
                if (step + 1 < tokens) conversations[i].Prompt((LLamaToken)next);
            }
        }
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var c in conversations) c.Dispose();
        return new LlamaCppBatchedResult(seconds, prompts.Count * tokens, outputs.Select(o => o.ToArray()).ToArray());
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        for (var i = 1; i < logits.Length; i++)
            if (logits[i] > logits[best]) best = i;
        return best;
    }
}
