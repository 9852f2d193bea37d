using AwqRuntime.Model;
using AwqRuntime.Native;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// The quantized model as a trainable network over fixed-size batches of B sequences of T tokens
/// (every sequence starts at position 0): the embedding, biases and classifier of the quantized
/// model stay fixed (they are saved in fp16 as they are); the norms and the linears learn
/// (<see cref="QatLinear"/>). <see cref="Forward"/> computes the logits and keeps what
/// <see cref="Backward"/> needs; the reverse pass accumulates every linear's gradient.
/// </summary>
internal sealed class QatNetwork
{
    private readonly LlamaConfig _c;
    private readonly float[] _embedding;
    private readonly float[] _classifier;
    private readonly float[] _classifierT;
    private readonly float[][] _x;
    private readonly float[] _hf;
    private readonly float[] _scratch;

    /// <param name="model">The quantized model (its fixed tensors as saved).</param>
    /// <param name="linears">Per block, the seven trainable linears in <see cref="LinearKind"/> order.</param>
    public QatNetwork(LlamaModel model, QatLinear[][] linears, int batch, int seqLen, float normLearningRate = 0)
    {
        var c = _c = model.Config;
        if (linears.Length != c.NumLayers) throw new ArgumentException($"{linears.Length} blocks of linears for {c.NumLayers} layers");
        Batch = batch;
        SeqLen = seqLen;
        Rows = checked(batch * seqLen);
        int d = c.HiddenSize, v = c.VocabSize;
        _embedding = model.Embedding.ToFloat32();
        _classifier = DenseWeights(model.Output);
        _classifierT = new float[_classifier.Length];
        DenseOps.Transpose(_classifier, v, d, _classifierT);
        FinalNorm = new QatNorm(model.FinalNorm, normLearningRate);
        var rope = new RopeTable(seqLen, c.EffectiveHeadDim, c.EffectiveRopeDim, c.RopeTheta, c.RopeFreqFactors());
        var attention = new CausalAttention(batch, seqLen, c.NumHeads, c.NumKvHeads, c.EffectiveHeadDim, c.SlidingWindow);
        Blocks = new QatBlock[c.NumLayers];
        for (var l = 0; l < c.NumLayers; l++)
        {
            var b = model.Blocks[l];
            var biases = LinearKinds.All.Select(k => b.Bias(k)).ToArray();
            Blocks[l] = new QatBlock(c, new QatNorm(b.AttnNorm, normLearningRate), new QatNorm(b.FfnNorm, normLearningRate), linears[l], biases, Rows, rope, attention);
        }
        _x = new float[c.NumLayers + 1][];
        for (var l = 0; l <= c.NumLayers; l++) _x[l] = new float[(long)Rows * d];
        _hf = new float[(long)Rows * d];
        // the largest M·(N+K) + N·K of any product's weight gradient, or the classifier's input gradient
        long need = 0;
        foreach (var row in linears)
            foreach (var l in row)
                need = Math.Max(need, (long)Rows * (l.N + l.K) + (long)l.N * l.K);
        _scratch = new float[checked((int)need)];
        Logits = new float[checked((long)Rows * v)];
    }

    public int Batch { get; }
    public int SeqLen { get; }
    public int Rows { get; }
    public QatBlock[] Blocks { get; }

    /// <summary>The final norm (learned like the blocks' norms).</summary>
    public QatNorm FinalNorm { get; }

    /// <summary>Every norm: per block attention then MLP, then the final one.</summary>
    public IEnumerable<QatNorm> Norms => Blocks.SelectMany(b => new[] { b.AttnNorm, b.FfnNorm }).Append(FinalNorm);

    /// <summary>
    /// Writes the learned norms (fp16-rounded, as the forward pass used them) into <paramref name="model"/>'s
    /// norm arrays, the model this network was made from.
    /// </summary>
    public void WriteNorms(LlamaModel model)
    {
        for (var l = 0; l < Blocks.Length; l++)
        {
            Blocks[l].AttnNorm.Value.CopyTo(model.Blocks[l].AttnNorm, 0);
            Blocks[l].FfnNorm.Value.CopyTo(model.Blocks[l].FfnNorm, 0);
        }
        FinalNorm.Value.CopyTo(model.FinalNorm, 0);
    }

    /// <summary>The last forward's logits [B·T, vocab].</summary>
    public float[] Logits { get; }

    /// <summary>Logits of the batch (B sequences of T tokens, one after another) into <see cref="Logits"/>.</summary>
    public void Forward(ReadOnlySpan<int> tokens)
    {
        var d = _c.HiddenSize;
        if (tokens.Length != Rows) throw new ArgumentException($"a batch holds {Rows} tokens, got {tokens.Length}");
        for (var r = 0; r < Rows; r++) _embedding.AsSpan(tokens[r] * d, d).CopyTo(_x[0].AsSpan(r * d, d));
        for (var l = 0; l < Blocks.Length; l++) Blocks[l].Forward(_x[l], _x[l + 1]);
        Kernels.RmsNorm(_x[^1], FinalNorm.Value, Rows, d, _c.RmsNormEps, _hf);
        DenseOps.MatMulT(_hf, Rows, d, _classifier, _c.VocabSize, Logits);
    }

    /// <summary>The reverse pass from d loss / d logits (after <see cref="Forward"/>); linears accumulate gradients.</summary>
    public void Backward(ReadOnlySpan<float> dLogits)
    {
        var d = _c.HiddenSize;
        var dhf = new float[(long)Rows * d];
        DenseOps.InputGradient(dLogits, Rows, _c.VocabSize, _classifierT, d, dhf);
        var dx = new float[(long)Rows * d];
        RmsNormGrad.Accumulate(_x[^1], FinalNorm.Value, dhf, Rows, d, _c.RmsNormEps, dx, FinalNorm.Gradient);
        var dPrev = new float[dx.Length];
        for (var l = Blocks.Length - 1; l >= 0; l--)
        {
            Blocks[l].Backward(dx, dPrev, _scratch);
            (dx, dPrev) = (dPrev, dx);
        }
    }

    /// <summary>The classifier as fp32 [vocab, hidden]: its own weights, or the embedding's when tied.</summary>
    private static float[] DenseWeights(ILinear output) => output switch
    {
        FloatLinear f => f.Weight,
        HalfLinear h => h.ToFloat32(),
        _ => throw new NotSupportedException($"quantization-aware training needs a dense classifier (fp32 or fp16), not {output.GetType().Name}"),
    };
}
