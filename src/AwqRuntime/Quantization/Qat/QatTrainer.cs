using System.Diagnostics;
using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Quantization-aware training after AWQ (the tutorial's prepare_qat → train → convert, on LLM
/// terms): start from AWQ's solution — its prepared (scaled, clipped) full-precision weights as the
/// latent weights, its group scales and zero points — fake-quantize in the forward pass, and train
/// end to end by distillation on the logits against the full-precision model over the calibration
/// text; then round once more and hand back an ordinary INT4 model (same layout, loader, kernels).
///
/// End to end rather than block by block: the loss is the KL divergence that `awq compare`
/// reports, and a block can learn to compensate the error of the blocks before it, which per-block
/// output reconstruction cannot (it fits each block to full-precision inputs it never sees after
/// quantization). The price is memory: the whole model and one batch's activations are held in
/// fp32, which suits the small models this runs on CPU; it is refused when it would not fit.
/// </summary>
public static class QatTrainer
{
    /// <summary>
    /// Trains the INT4 linears of <paramref name="quantized"/> (from AWQ, whose prepared fp32 weights are
    /// <paramref name="prepared"/>[layer][kind]) against <paramref name="teacher"/> on <paramref name="calib"/>,
    /// and replaces them in place with the trained ones.
    /// </summary>
    public static QatReport Train(LlamaModel quantized, IReadOnlyList<IReadOnlyDictionary<LinearKind, float[]>> prepared, LlamaModel teacher,
        CalibrationSet calib, QatOptions options, IProgress<QuantProgress>? progress = null, CancellationToken cancel = default)
    {
        options = options.Validate();
        var c = quantized.Config;
        if (calib.Samples.Length == 0) throw new ArgumentException("quantization-aware training needs calibration data (none was given)");
        var clock = Stopwatch.StartNew();
        var batch = Math.Min(options.BatchSize, calib.Samples.Length);
        var t = calib.SeqLen;
        CheckMemory(c, batch, t);

        var linears = new QatLinear[c.NumLayers][];
        for (var l = 0; l < c.NumLayers; l++)
        {
            linears[l] = new QatLinear[LinearKinds.All.Count];
            foreach (var kind in LinearKinds.All)
            {
                var current = quantized.Blocks[l][kind];
                linears[l][(int)kind] = current switch
                {
                    IGroupQuantizedLinear q => new QatLinear(prepared[l][kind], q.ToWeights(), options),
                    HalfLinear h => new QatLinear(h.ToFloat32(), h.OutFeatures, h.InFeatures),
                    _ => throw new NotSupportedException($"quantization-aware training runs on group-quantized or fp16 linears, not {current.GetType().Name} ({LlamaTensorNames.Linear(l, kind)})"),
                };
            }
        }
        var net = new QatNetwork(quantized, linears, batch, t, options.NormLearningRate);
        var norms = net.Norms.ToArray();
        // Held out: the last sequences (a batch or an eighth of them, whole batches), never trained on.
        // The parameters kept are those with the lowest KL on them, AWQ's own (step 0) included, so the
        // result is never further from the full-precision model on that text than AWQ's.
        var n = calib.Samples.Length;
        var heldOut = n >= 2 * batch ? Math.Max(batch, n / 8 / batch * batch) : 0;
        var samples = calib.Samples;
        var selfSamples = options.SelfSamplesFor(n);
        if (selfSamples > 0)
        {
            var sampling = Stopwatch.StartNew();
            var self = CalibrationSet.FromModel(teacher, c.BosTokenId, selfSamples, t, (ulong)options.Seed + 0x5eed, done =>
            {
                cancel.ThrowIfCancellationRequested();
                var eta = sampling.Elapsed.TotalSeconds / done * (selfSamples - done);
                progress?.Report(new QuantProgress(c.NumLayers, c.NumLayers,
                    $"qat sampling {done}/{selfSamples} training sequences of {t} tokens from the full-precision model, ETA {eta:F0} s (--qat-self 0: none)", done, selfSamples));
            });
            samples = [.. calib.Samples, .. self.Samples];
        }
        var teacherLp = new TeacherCache(teacher, samples);
        // training: the calibration sequences not held out, then the self-generated ones
        var train = Enumerable.Range(0, n - heldOut).Concat(Enumerable.Range(n, samples.Length - n)).ToArray();
        var validation = Enumerable.Range(n - heldOut, heldOut).ToArray();
        var rng = new Random(options.Seed);
        var next = train.Length;
        var tokens = new int[batch * t];
        var grad = new float[net.Logits.Length];
        var target = new float[net.Logits.Length];
        var losses = new double[options.Steps];
        var validations = new List<(int Step, double Kl)>();
        var every = Math.Max(1, options.Steps / options.Validations);
        (float[] W, float[] S)[][]? best = null;
        float[][]? bestNorms = null;
        var bestKl = double.PositiveInfinity;
        var bestStep = 0;
        void Validate(int step)
        {
            if (heldOut == 0) return;
            double sum = 0;
            for (var i = 0; i < heldOut; i += batch)
            {
                Fill(validation.AsSpan(i, batch));
                net.Forward(tokens);
                sum += DistillationLoss.Compute(net.Logits, target, net.Rows, c.VocabSize, grad);
            }
            var kl = sum / (heldOut / batch);
            validations.Add((step, kl));
            if (kl < bestKl)
            {
                bestKl = kl;
                bestStep = step;
                best = linears.Select(row => row.Select(l => l.Snapshot()).ToArray()).ToArray();
                bestNorms = norms.Select(nm => nm.Snapshot()).ToArray();
            }
        }
        void Fill(ReadOnlySpan<int> picked)
        {
            for (var b = 0; b < picked.Length; b++)
            {
                samples[picked[b]].CopyTo(tokens, b * t);
                teacherLp.Get(picked[b]).CopyTo(target.AsSpan(b * t * c.VocabSize));
            }
        }
        Validate(0);
        var pick = new int[batch];
        for (var step = 0; step < options.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            for (var b = 0; b < batch; b++)
            {
                if (next == train.Length) { rng.Shuffle(train); next = 0; }
                pick[b] = train[next++];
            }
            Fill(pick);
            net.Forward(tokens);
            losses[step] = DistillationLoss.Compute(net.Logits, target, net.Rows, c.VocabSize, grad);
            net.Backward(grad);
            // cosine decay of the step sizes to zero over the run (Loshchilov and Hutter, ICLR 2017)
            var factor = (float)(0.5 * (1 + Math.Cos(Math.PI * step / options.Steps)));
            foreach (var block in linears)
                foreach (var l in block) l.Step(factor);
            foreach (var nm in norms) nm.Step(factor);
            if ((step + 1) % every == 0 || step + 1 == options.Steps) Validate(step + 1);
            var held = validations.Count > 0 ? $", held-out {validations[^1].Kl:F4}" : "";
            progress?.Report(new QuantProgress(c.NumLayers, c.NumLayers, $"qat {step + 1}/{options.Steps} kl {losses[step]:F4}{held}", step + 1, options.Steps + 1));
        }
        if (best != null)
            for (var l = 0; l < c.NumLayers; l++)
                for (var k = 0; k < linears[l].Length; k++)
                    linears[l][k].Restore(best[l][k]);
        if (bestNorms != null)
            for (var i = 0; i < norms.Length; i++) norms[i].Restore(bestNorms[i]);
        net.WriteNorms(quantized);

        for (var l = 0; l < c.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
                if (quantized.Blocks[l][kind] is IGroupQuantizedLinear old)
                    quantized.Blocks[l].SetLinear(kind, GroupQuantizedLinear.Create(linears[l][(int)kind].ToQuantizedWeights(), (old as Int4Linear)?.Kernel ?? Int4Kernel.W4A16));
        return new QatReport(options, batch, t, losses, validations, selfSamples, train.Length, heldOut, heldOut > 0 ? bestStep : options.Steps, clock.Elapsed);
    }

    /// <summary>Refuses a run whose fp32 training state (weights ×5: latent, fake-quantized, transposed, gradient, Adam ×2; activations of a batch) would not fit.</summary>
    private static void CheckMemory(LlamaConfig c, int batch, int t)
    {
        long weights = 0;
        weights += (long)c.NumLayers * ((long)c.HiddenSize * (c.QDim + 2 * c.KvDim) + (long)c.QDim * c.HiddenSize + 3L * c.HiddenSize * c.IntermediateSize);
        var rows = (long)batch * t;
        var perLayer = rows * (4L * c.HiddenSize + 2L * c.QDim + 2L * c.KvDim + 3L * c.IntermediateSize) + (long)batch * c.NumHeads * t * t;
        var bytes = 4 * (7 * weights + c.NumLayers * perLayer + 3 * rows * c.VocabSize + 2L * c.VocabSize * c.HiddenSize);
        var available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > available * 0.8)
            throw new InsufficientMemoryException(
                $"quantization-aware training of this model needs about {bytes / (1 << 20)} MiB (fp32 weights, optimiser state and one batch of {batch} x {t} tokens), more than the {available / (1 << 20)} MiB available: lower --qat-batch or --calib-seqlen");
        if (rows * c.VocabSize > int.MaxValue || (long)batch * c.NumHeads * t * t > int.MaxValue)
            throw new ArgumentException($"a training batch of {batch} x {t} tokens is too large for this model: lower --qat-batch or --calib-seqlen");
    }

    /// <summary>The teacher's log-probabilities per training sequence, computed once each (kept while they fit in 1 GiB).</summary>
    private sealed class TeacherCache(LlamaModel teacher, int[][] samples)
    {
        private readonly Dictionary<int, float[]> _kept = new();
        private readonly long _keepLimit = (1L << 30) / 4 / ((long)samples[0].Length * teacher.Config.VocabSize);

        public float[] Get(int sample)
        {
            if (_kept.TryGetValue(sample, out var lp)) return lp;
            var tokens = samples[sample];
            var v = teacher.Config.VocabSize;
            var logits = new float[(long)tokens.Length * v];
            var cache = teacher.CreateCache(tokens.Length);
            var buffers = teacher.CreateBuffers(Math.Min(tokens.Length, 512));
            teacher.Forward(tokens, cache, buffers, logits, LogitsMode.All);
            lp = DistillationLoss.LogProbabilities(logits, tokens.Length, v);
            if (_kept.Count < _keepLimit) _kept[sample] = lp;
            return lp;
        }
    }
}

/// <summary>
/// What a QAT run did: its settings, batch shape, the training loss of every step, the held-out KL at
/// each validation (step 0 is AWQ's model), how many sequences it trained on (calibration and
/// self-generated) and how many were held out, the step whose
/// parameters were kept, its time.
/// </summary>
public sealed record QatReport(QatOptions Options, int Batch, int SeqLen, IReadOnlyList<double> Losses,
    IReadOnlyList<(int Step, double Kl)> Validations, int SelfSamples, int TrainingSequences, int HeldOut, int KeptStep, TimeSpan Elapsed)
{
    /// <summary>Held-out KL of AWQ's model (step 0) and of the parameters kept; NaN without held-out sequences.</summary>
    public double HeldOutBefore => Validations.Count > 0 ? Validations[0].Kl : double.NaN;
    public double HeldOutKept => Validations.Count > 0 ? Validations.First(v => v.Step == KeptStep).Kl : double.NaN;

    /// <summary>Mean loss of the first (last) tenth of the steps, at least one step.</summary>
    public double InitialLoss => Losses.Take(Math.Max(1, Losses.Count / 10)).Average();
    public double FinalLoss => Losses.Skip(Losses.Count - Math.Max(1, Losses.Count / 10)).Average();
}
