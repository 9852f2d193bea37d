using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// One linear under quantization-aware training: latent fp32 weights W [N,K] and group scales s
/// [N,G] (both learned), fixed zero points z [N,G], and the fake-quantized Ŵ the forward pass uses
/// (<see cref="FakeQuant"/>). A frozen linear (one of modules_to_not_convert, kept in fp16) runs its
/// fp16-rounded weights and learns nothing. Gradients accumulate over a step's rows and are applied
/// by <see cref="Step"/>.
/// </summary>
internal sealed class QatLinear
{
    private readonly float[] _dWq;
    private readonly float[] _dW;
    private readonly float[] _dS;
    private readonly bool[] _clamped;
    private readonly Adam? _adamW;
    private readonly Adam? _adamS;
    private readonly float[] _lrW = [];
    private readonly float[] _lrS = [];

    /// <summary>A linear that learns: <paramref name="init"/>'s scales and zeros, latent weights <paramref name="weight"/> (fp32, the prepared full-precision ones).</summary>
    public QatLinear(float[] weight, QuantizedWeights init, QatOptions options)
    {
        N = init.OutFeatures;
        K = init.InFeatures;
        if (weight.Length != (long)N * K) throw new ArgumentException($"latent weights hold {weight.Length} values, expected {N}x{K}");
        GroupSize = init.GroupSize;
        Bits = init.Bits;
        W = (float[])weight.Clone();
        S = new float[init.Scales.Length];
        for (var i = 0; i < S.Length; i++) S[i] = init.Scale(i);
        Z = (byte[])init.Zeros.Clone();
        Wq = new float[W.Length];
        WqT = new float[W.Length];
        _dWq = new float[W.Length];
        _dW = new float[W.Length];
        _dS = new float[S.Length];
        _clamped = new bool[W.Length];
        // Step sizes in units of each group's initial quantization step (Adam's steps are ~lr in size).
        var groups = init.Groups;
        _lrW = new float[W.Length];
        for (var r = 0; r < N; r++)
            for (var c = 0; c < K; c++)
                _lrW[r * K + c] = options.WeightLearningRate * S[r * groups + c / GroupSize];
        _lrS = new float[S.Length];
        for (var i = 0; i < S.Length; i++) _lrS[i] = options.ScaleLearningRate * S[i];
        if (options.WeightLearningRate > 0) _adamW = new Adam(W.Length);
        if (options.ScaleLearningRate > 0) _adamS = new Adam(S.Length);
        Materialize();
    }

    /// <summary>A frozen linear: fp16-rounded weights, no learning.</summary>
    public QatLinear(float[] weight, int outFeatures, int inFeatures)
    {
        N = outFeatures;
        K = inFeatures;
        Frozen = true;
        W = new float[weight.Length];
        for (var i = 0; i < W.Length; i++) W[i] = Fp16.Round(weight[i]);
        S = [];
        Z = [];
        Wq = W;
        WqT = new float[W.Length];
        DenseOps.Transpose(Wq, N, K, WqT);
        _dWq = _dW = _dS = [];
        _clamped = [];
    }

    public int N { get; }
    public int K { get; }
    public int GroupSize { get; }
    public int Bits { get; }
    public bool Frozen { get; }

    /// <summary>Latent weights [N,K].</summary>
    public float[] W { get; }

    /// <summary>Scales [N,G] (fp32; the forward uses them rounded to fp16).</summary>
    public float[] S { get; }

    /// <summary>Zero points [N,G].</summary>
    public byte[] Z { get; }

    /// <summary>The weights the forward pass runs: fake-quantized [N,K], and transposed [K,N] for the input gradient.</summary>
    public float[] Wq { get; }
    public float[] WqT { get; }

    /// <summary>Ŵ (and its transpose) from the current W and s.</summary>
    public void Materialize()
    {
        if (Frozen) return;
        FakeQuant.Forward(W, S, Z, N, K, GroupSize, Bits, Wq, _clamped);
        DenseOps.Transpose(Wq, N, K, WqT);
    }

    /// <summary>y [M,N] = x [M,K] · Ŵᵀ.</summary>
    public void Forward(ReadOnlySpan<float> x, int m, Span<float> y) => DenseOps.MatMulT(x, m, K, Wq, N, y);

    /// <summary>dx [M,K] = dy · Ŵ (overwritten), and dŴ += dyᵀ · x unless frozen.</summary>
    public void Backward(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int m, Span<float> dx, float[] scratch)
    {
        DenseOps.InputGradient(dy, m, N, WqT, K, dx);
        if (!Frozen) DenseOps.AccumulateWeightGradient(dy, x, m, N, K, _dWq, scratch);
    }

    /// <summary>dx [M,K] += dy · Ŵ (for inputs shared by several linears).</summary>
    public void BackwardAdd(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int m, Span<float> dx, float[] scratch)
    {
        var tmp = scratch.AsSpan(0, m * K);
        DenseOps.InputGradient(dy, m, N, WqT, K, tmp);
        System.Numerics.Tensors.TensorPrimitives.Add(dx, tmp, dx);
        if (!Frozen) DenseOps.AccumulateWeightGradient(dy, x, m, N, K, _dWq, scratch); // tmp is consumed: scratch is free again
    }

    /// <summary>The accumulated gradient of Ŵ (tests read it).</summary>
    public ReadOnlySpan<float> WeightGradient => _dWq;

    /// <summary>The gradients of the learned W and s from the accumulated dŴ (tests read them); filled by <see cref="ComputeParameterGradients"/>.</summary>
    public ReadOnlySpan<float> LatentGradient => _dW;
    public ReadOnlySpan<float> ScaleGradient => _dS;

    /// <summary>dW and ds from dŴ through the fake quantizer.</summary>
    public void ComputeParameterGradients()
    {
        if (Frozen) return;
        Array.Clear(_dW);
        Array.Clear(_dS);
        FakeQuant.Backward(_dWq, W, S, Z, _clamped, N, K, GroupSize, Bits, _dW, _dS);
    }

    /// <summary>One optimiser step from the accumulated gradients (step sizes × <paramref name="factor"/>, the schedule), then clears them and re-materialises Ŵ.</summary>
    public void Step(float factor = 1)
    {
        if (Frozen) return;
        ComputeParameterGradients();
        _adamW?.Step(W, _dW, _lrW, factor);
        if (_adamS != null)
        {
            _adamS.Step(S, _dS, _lrS, factor);
            for (var i = 0; i < S.Length; i++) S[i] = MathF.Max(S[i], FakeQuant.SmallestScale);
        }
        Array.Clear(_dWq);
        Materialize();
    }

    /// <summary>A copy of the learned parameters (latent weights, scales).</summary>
    public (float[] W, float[] S) Snapshot() => ((float[])W.Clone(), (float[])S.Clone());

    /// <summary>Puts back parameters from <see cref="Snapshot"/> (optimiser state is kept).</summary>
    public void Restore((float[] W, float[] S) snapshot)
    {
        snapshot.W.CopyTo(W, 0);
        snapshot.S.CopyTo(S, 0);
        Materialize();
    }

    /// <summary>The learned linear as the checkpoint stores it: q = clamp(round(w/ŝ) + z), ŝ = fp16(s).</summary>
    public QuantizedWeights ToQuantizedWeights()
    {
        if (Frozen) throw new InvalidOperationException("a frozen linear is not quantized");
        var groups = QuantGroups.Count(K, GroupSize);
        var q = new byte[W.Length];
        var scales = new ushort[S.Length];
        var qmax = (1 << Bits) - 1;
        for (var i = 0; i < S.Length; i++) scales[i] = Fp16.FromSingle(FakeQuant.RoundedScale(S[i]));
        for (var r = 0; r < N; r++)
            for (var c = 0; c < K; c++)
            {
                var g = r * groups + c / GroupSize;
                var t = MathF.Round(W[r * K + c] / Fp16.ToSingle(scales[g])) + Z[g];
                q[r * K + c] = (byte)Math.Clamp(t, 0, qmax);
            }
        return new QuantizedWeights(N, K, GroupSize, Bits, q, scales, (byte[])Z.Clone());
    }
}
