using System.Diagnostics;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization.Methods;
using AwqRuntime.Quantization.Resume;

namespace AwqRuntime.Quantization;

/// <summary>
/// The quantization pipeline over a checkpoint, one block at a time (AutoAWQ's quantize()): only the
/// current block is materialised in fp32, plus the calibration activations; the rest of the source
/// stays memory-mapped, and finished blocks are kept as INT4. The method (<see cref="AwqConfig.Method"/>,
/// one <see cref="IQuantizationMethod"/> each) decides what happens to a block's weights before they
/// are rounded. Calibration activations always come from the unquantized model (block i+1's input is
/// block i's full-precision output); a method that reads none (RTN) skips the calibration forward.
/// </summary>
public static class AwqQuantizer
{
    /// <summary>Searches (AWQ) or skips the search (RTN), clips, quantizes. Non-quantized tensors are rounded to fp16, as saved.</summary>
    /// <param name="journal">
    /// A work folder that receives each finished block (and the next block's calibration input); a run
    /// given a journal with <see cref="QuantizationJournal.Completed"/> blocks restores them and goes on
    /// from there, producing the same model as an uninterrupted run.
    /// </param>
    /// <remarks>
    /// QAT keeps no journal: its training needs every block's full-precision weights at once, which the
    /// journal does not hold, so a resumed QAT run starts again from the first block.
    /// </remarks>
    public static QuantizationResult Quantize(IWeightSource src, CalibrationSet calib, AwqConfig config,
        IProgress<QuantProgress>? progress = null, CancellationToken cancel = default, QuantizationJournal? journal = null) =>
        Run(src, calib, config.Validate(), quantize: true, searched: null, progress, cancel, config.Method == QuantMethod.Qat ? null : journal);

    /// <summary>
    /// <see cref="Quantize"/> with the scales an earlier AWQ run chose (its <see cref="QuantizationResult.Blocks"/>,
    /// same calibration and group size) instead of a new search; clipping and rounding still run. The
    /// search depends on neither clipping nor modules_to_not_convert, so e.g. a variant that keeps
    /// down_proj in fp16 gets the same model as searching again, for a fraction of the time (tested).
    /// </summary>
    public static QuantizationResult Quantize(IWeightSource src, CalibrationSet calib, AwqConfig config, IReadOnlyList<BlockReport> searched,
        IProgress<QuantProgress>? progress = null, CancellationToken cancel = default)
    {
        config = config.Validate();
        if (config.Method is not (QuantMethod.Awq or QuantMethod.Qat))
            throw new ArgumentException($"reusing searched scales needs method awq or qat, not {config.Method.Name()}", nameof(config));
        CheckSearched(src, searched);
        return Run(src, calib, config, quantize: true, searched, progress, cancel);
    }

    /// <summary>
    /// AWQ scales (and clipping when <paramref name="clip"/>) folded into full-precision weights, no rounding:
    /// the same function as the source model up to fp32 rounding (tested), and the input for
    /// "AWQ-scaled" GGUF exports that llama.cpp then quantizes with its own formats.
    /// </summary>
    public static QuantizationResult ApplyScales(IWeightSource src, CalibrationSet calib, AwqConfig config, bool clip = false,
        IProgress<QuantProgress>? progress = null, CancellationToken cancel = default) =>
        Run(src, calib, (config with { Method = QuantMethod.Awq, ApplyClip = clip }).Validate(), quantize: false, searched: null, progress, cancel);

    /// <summary>
    /// Folds the scales an earlier AWQ run chose (its <see cref="QuantizationResult.Blocks"/>) into the
    /// full-precision weights of <paramref name="src"/>: what <see cref="ApplyScales"/> returns without
    /// clipping, without searching again (the search is deterministic and sees the same fp32 blocks,
    /// since calibration inputs always come from the unquantized model; tested equal).
    /// </summary>
    public static LlamaModel FoldScales(IWeightSource src, IReadOnlyList<BlockReport> searched)
    {
        var c = src.Config;
        CheckSearched(src, searched);
        var blocks = new LlamaBlock[c.NumLayers];
        for (var l = 0; l < c.NumLayers; l++)
        {
            var block = LlamaModel.LoadBlock(src, l);
            foreach (var r in searched[l].Scales) ScaleFolding.Apply(block, r);
            blocks[l] = block;
        }
        return AssembleFp32(src, blocks);
    }

    /// <summary>One report per block, in order: what <see cref="QuantizationResult.Blocks"/> holds for this model.</summary>
    private static void CheckSearched(IWeightSource src, IReadOnlyList<BlockReport> searched)
    {
        ArgumentNullException.ThrowIfNull(searched);
        if (searched.Count != src.Config.NumLayers)
            throw new ArgumentException($"{searched.Count} block reports for a model of {src.Config.NumLayers} blocks", nameof(searched));
        for (var l = 0; l < searched.Count; l++)
            if (searched[l].Layer != l) throw new ArgumentException($"block report {l} is for block {searched[l].Layer}", nameof(searched));
    }

    private static QuantizationResult Run(IWeightSource src, CalibrationSet calib, AwqConfig config, bool quantize,
        IReadOnlyList<BlockReport>? searched, IProgress<QuantProgress>? progress, CancellationToken cancel, QuantizationJournal? journal = null)
    {
        var clock = Stopwatch.StartNew();
        var c = src.Config;
        var method = QuantizationMethods.Create(c, config);
        // RTN reads no activations: the calibration forward runs only when statistics are asked for.
        var calibrate = method.NeedsActivations || config.CaptureStatistics;
        if (calibrate)
        {
            if (calib.Samples.Length == 0) throw new ArgumentException($"{method.Name} needs calibration data (none was given)");
            foreach (var s in calib.Samples)
                foreach (var t in s)
                    if ((uint)t >= (uint)c.VocabSize) throw new ArgumentException($"calibration token {t} is outside the vocabulary of {c.VocabSize}");
            if (calib.SeqLen > c.MaxPositionEmbeddings)
                throw new ArgumentException($"calibration sequence length {calib.SeqLen} exceeds the model's context of {c.MaxPositionEmbeddings}");
        }

        var start = journal?.Completed ?? 0;
        var x = !calibrate ? null : start > 0 ? journal!.LoadActivations(calib.TokenCount * c.HiddenSize) : InitialActivations(src, calib);
        if (quantize && calibrate) CompactMemory(); // drop the fp32 embedding table InitialActivations read
        var blocks = new LlamaBlock[c.NumLayers];
        var reports = new List<BlockReport>();
        var stats = new Dictionary<string, ChannelStats>();
        for (var l = 0; l < start; l++)
        {
            progress?.Report(new QuantProgress(l, c.NumLayers, "restore", 0, 1));
            var (restored, report, blockStats) = journal!.Load(l, c);
            blocks[l] = restored;
            reports.Add(report);
            foreach (var (kind, st) in blockStats) stats[LlamaTensorNames.LinearModule(l, kind)] = st;
        }
        var calibration = calibrate ? new BlockCalibration(c, calib, config.Backend) : null;
        var forwardClock = new Stopwatch();
        for (var l = start; l < c.NumLayers; l++)
        {
            cancel.ThrowIfCancellationRequested();
            var layer = l;
            progress?.Report(new QuantProgress(l, c.NumLayers, "load", 0, 7));
            var block = LlamaModel.LoadBlock(src, l);
            if (calibration != null)
            {
                progress?.Report(new QuantProgress(l, c.NumLayers, "forward", 1, 7));
                forwardClock.Start();
                calibration.Run(l, block, x!);
                forwardClock.Stop();
                foreach (var (kind, st) in calibration.Stats) stats[LlamaTensorNames.LinearModule(l, kind)] = st;
            }
            reports.Add(method.Prepare(l, block, calibration, searched?[l],
                (step, i, n) => { cancel.ThrowIfCancellationRequested(); progress?.Report(new QuantProgress(layer, c.NumLayers, step, i, n + 1)); }));
            if (quantize)
            {
                progress?.Report(new QuantProgress(l, c.NumLayers, "quantize", 6, 7));
                foreach (var kind in LinearKinds.All)
                {
                    var full = (FloatLinear)block[kind];
                    block.SetLinear(kind, config.ModulesToNotConvert.Contains(kind.Name())
                        ? HalfLinear.From(full, LlamaTensorNames.Linear(l, kind))
                        : method.QuantizeLinear(kind, full));
                    if (block.Bias(kind) is { } bias) Fp16Encoder.RoundInPlace(bias, LlamaTensorNames.Bias(l, kind));
                }
                Fp16Encoder.RoundInPlace(block.AttnNorm, LlamaTensorNames.AttnNorm(l));
                Fp16Encoder.RoundInPlace(block.FfnNorm, LlamaTensorNames.FfnNorm(l));
            }
            blocks[l] = block;
            journal?.Save(l, block, reports[^1], calibration?.Stats ?? new Dictionary<LinearKind, ChannelStats>(), x);
            // The block's fp32 weights and the search's temporaries are large-object garbage now;
            // collect it before the next block allocates the same amount again, so peak memory stays
            // at one block's worth instead of growing with the LOH (measured on TinyLlama shapes).
            if (quantize) CompactMemory();
        }
        x = null;
        calibration = null;
        if (quantize) CompactMemory(); // the search workspace is garbage now: free it before reading the classifier
        progress?.Report(new QuantProgress(c.NumLayers, c.NumLayers, "done", 7, 7));
        var model = quantize ? AssembleFp16(src, blocks) : AssembleFp32(src, blocks);
        // QAT: every block is AWQ's now; train them together against the full-precision model.
        var qat = quantize && method is QatMethod qm ? Qat.QatTrainer.Train(model, qm.Prepared, LlamaModel.FromWeights(src), calib, config.Qat, progress, cancel) : null;
        return new QuantizationResult
        {
            Model = model, Config = config, Calibration = calib, Blocks = reports, ActivationStats = stats, Elapsed = clock.Elapsed,
            CalibrationForward = forwardClock.Elapsed, Qat = qat,
        };
    }

    /// <summary>Block 0's input: the embedding rows of the calibration tokens, [tokens, hidden].</summary>
    /// <remarks>A method of its own so the fp32 embedding table it reads is dead when it returns.</remarks>
    private static float[] InitialActivations(IWeightSource src, CalibrationSet calib)
    {
        var c = src.Config;
        var d = c.HiddenSize;
        var x = new float[calib.TokenCount * d];
        var table = LlamaModel.ReadVector(src, LlamaTensorNames.Embedding, (long)c.VocabSize * d);
        var row = 0;
        foreach (var sample in calib.Samples)
            foreach (var t in sample)
                table.AsSpan(t * d, d).CopyTo(x.AsSpan(row++ * d, d));
        return x;
    }

    /// <summary>
    /// AutoAWQ keeps the embedding, the norms and lm_head in fp16, and so does the checkpoint: hold
    /// them in fp16 (read as fp16 bits when the source stores fp16), so the in-memory model and the
    /// reloaded checkpoint compute the same logits and the classifier takes half the memory.
    /// </summary>
    private static LlamaModel AssembleFp16(IWeightSource src, LlamaBlock[] blocks)
    {
        var c = src.Config;
        var d = c.HiddenSize;
        var table = new TokenEmbedding(src.ReadFloat16(LlamaTensorNames.Embedding), c.VocabSize, d);
        var finalNorm = LlamaModel.ReadVector(src, LlamaTensorNames.FinalNorm, d);
        Fp16Encoder.RoundInPlace(finalNorm, LlamaTensorNames.FinalNorm);
        ILinear output = IsTied(src)
            ? new HalfLinear(table.Float16!, c.VocabSize, d)
            : new HalfLinear(src.ReadFloat16(LlamaTensorNames.Output), c.VocabSize, d);
        return new LlamaModel(c, table, blocks, finalNorm, output) { ContextOrigin = src.ContextOrigin };
    }

    private static LlamaModel AssembleFp32(IWeightSource src, LlamaBlock[] blocks)
    {
        var c = src.Config;
        var d = c.HiddenSize;
        var embedding = LlamaModel.ReadVector(src, LlamaTensorNames.Embedding, (long)c.VocabSize * d);
        var output = IsTied(src) ? new FloatLinear(embedding, c.VocabSize, d) : LlamaModel.ReadLinear(src, LlamaTensorNames.Output, c.VocabSize, d);
        return new LlamaModel(c, embedding, blocks, LlamaModel.ReadVector(src, LlamaTensorNames.FinalNorm, d), output) { ContextOrigin = src.ContextOrigin };
    }

    private static bool IsTied(IWeightSource src) => src.Config.TieWordEmbeddings || !src.Contains(LlamaTensorNames.Output);

    private static void CompactMemory()
    {
        // Aggressive: compact the large-object heap too and give the freed memory back to the OS,
        // so the process's resident size follows what is live (what /usr/bin/time -v reports).
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

}
