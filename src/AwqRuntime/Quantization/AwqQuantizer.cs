using System.Diagnostics;
using AwqRuntime.Model;
using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization;

/// <summary>
/// The quantization pipeline over a checkpoint, one block at a time (AutoAWQ's quantize()): only the
/// current block is materialised in fp32, plus the calibration activations; the rest of the source
/// stays memory-mapped, and finished blocks are kept as INT4. Calibration activations always come
/// from the unquantized model (block i+1's input is block i's full-precision output).
/// </summary>
public static class AwqQuantizer
{
    /// <summary>Searches (AWQ) or skips the search (RTN), clips, quantizes. Non-quantized tensors are rounded to fp16, as saved.</summary>
    public static QuantizationResult Quantize(IWeightSource src, CalibrationSet calib, AwqConfig config,
        IProgress<QuantProgress>? progress = null, CancellationToken cancel = default) =>
        Run(src, calib, config.Validate(), quantize: true, progress, cancel);

    /// <summary>
    /// AWQ scales (and clipping when <paramref name="clip"/>) folded into full-precision weights, no rounding:
    /// the same function as the source model up to fp32 rounding (tested), and the input for
    /// "AWQ-scaled" GGUF exports that llama.cpp then quantizes with its own formats.
    /// </summary>
    public static QuantizationResult ApplyScales(IWeightSource src, CalibrationSet calib, AwqConfig config, bool clip = false,
        IProgress<QuantProgress>? progress = null, CancellationToken cancel = default) =>
        Run(src, calib, (config with { Method = QuantMethod.Awq, ApplyClip = clip }).Validate(), quantize: false, progress, cancel);

    private static QuantizationResult Run(IWeightSource src, CalibrationSet calib, AwqConfig config, bool quantize,
        IProgress<QuantProgress>? progress, CancellationToken cancel)
    {
        var clock = Stopwatch.StartNew();
        var c = src.Config;
        foreach (var s in calib.Samples)
            foreach (var t in s)
                if ((uint)t >= (uint)c.VocabSize) throw new ArgumentException($"calibration token {t} is outside the vocabulary of {c.VocabSize}");
        if (calib.SeqLen > c.MaxPositionEmbeddings)
            throw new ArgumentException($"calibration sequence length {calib.SeqLen} exceeds the model's context of {c.MaxPositionEmbeddings}");

        var embedding = LlamaModel.ReadVector(src, LlamaTensorNames.Embedding, (long)c.VocabSize * c.HiddenSize);
        var d = c.HiddenSize;
        var x = new float[calib.TokenCount * d];
        var row = 0;
        foreach (var sample in calib.Samples)
            foreach (var t in sample)
                embedding.AsSpan(t * d, d).CopyTo(x.AsSpan(row++ * d, d));

        var bq = new BlockQuantizer(c, config, calib);
        var blocks = new LlamaBlock[c.NumLayers];
        var reports = new List<BlockReport>();
        var stats = new Dictionary<string, ChannelStats>();
        for (var l = 0; l < c.NumLayers; l++)
        {
            cancel.ThrowIfCancellationRequested();
            var layer = l;
            progress?.Report(new QuantProgress(l, c.NumLayers, "load", 0, 7));
            var block = LlamaModel.LoadBlock(src, l);
            reports.Add(bq.SearchAndApply(l, block, x,
                (step, i, n) => { cancel.ThrowIfCancellationRequested(); progress?.Report(new QuantProgress(layer, c.NumLayers, step, i, n + 1)); }));
            foreach (var (kind, st) in bq.Stats) stats[LlamaTensorNames.LinearModule(l, kind)] = st;
            if (quantize)
            {
                progress?.Report(new QuantProgress(l, c.NumLayers, "quantize", 6, 7));
                foreach (var (kind, w) in bq.Quantize(block)) block.SetLinear(kind, new Int4Linear(w));
                foreach (var kind in config.ModulesToNotConvert) RoundToFp16(((FloatLinear)block[kind]).Weight);
                RoundToFp16(block.AttnNorm);
                RoundToFp16(block.FfnNorm);
            }
            blocks[l] = block;
        }
        progress?.Report(new QuantProgress(c.NumLayers, c.NumLayers, "done", 7, 7));

        var finalNorm = LlamaModel.ReadVector(src, LlamaTensorNames.FinalNorm, d);
        var tied = c.TieWordEmbeddings || !src.Contains(LlamaTensorNames.Output);
        var output = tied ? new FloatLinear(embedding, c.VocabSize, d) : LlamaModel.ReadLinear(src, LlamaTensorNames.Output, c.VocabSize, d);
        if (quantize)
        {
            // Saved as fp16 (AutoAWQ keeps embeddings, norms and lm_head in fp16): round now so the
            // in-memory model and the reloaded checkpoint compute the same logits.
            RoundToFp16(embedding);
            RoundToFp16(finalNorm);
            if (!tied) RoundToFp16(((FloatLinear)output).Weight);
        }
        var model = new LlamaModel(c, embedding, blocks, finalNorm, output);
        return new QuantizationResult
        {
            Model = model, Config = config, Calibration = calib, Blocks = reports, ActivationStats = stats, Elapsed = clock.Elapsed,
        };
    }

    /// <summary>Rounds to fp16 in place; a finite value beyond fp16's range (±65504) is an error, not a silent Inf.</summary>
    internal static void RoundToFp16(float[] v)
    {
        for (var i = 0; i < v.Length; i++)
        {
            var r = Fp16.Round(v[i]);
            if (float.IsInfinity(r) && float.IsFinite(v[i]))
                throw new InvalidDataException($"weight value {v[i]} exceeds the fp16 range the AWQ checkpoint stores (±65504)");
            v[i] = r;
        }
    }
}
