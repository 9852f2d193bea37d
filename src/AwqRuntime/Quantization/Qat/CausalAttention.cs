using System.Numerics.Tensors;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Causal grouped-query self-attention over B independent sequences of T rows, forward and reverse,
/// with the probabilities kept for the reverse pass. Per sequence b and head h (key/value head
/// g = h / (H / H_kv)):
///   S = Q_h K_gᵀ / √d,  S[i,j] = −∞ for j &gt; i (and for i − j ≥ window when a sliding window is set)
///   P = softmax_rows(S),  O_h = P V_g
/// Reverse: dP = dO V_gᵀ, dV_g += Pᵀ dO, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dQ_h = dS K_g / √d,
/// dK_g += dSᵀ Q_h / √d. Every product runs on the fp32 GEMM.
/// </summary>
internal sealed class CausalAttention(int batch, int seqLen, int heads, int kvHeads, int headDim, int window)
{
    private readonly float[] _qh = new float[seqLen * headDim];
    private readonly float[] _kh = new float[seqLen * headDim];
    private readonly float[] _vh = new float[seqLen * headDim];
    private readonly float[] _vhT = new float[seqLen * headDim];
    private readonly float[] _oh = new float[seqLen * headDim];
    private readonly float[] _tt = new float[seqLen * seqLen];
    private readonly float[] _tt2 = new float[seqLen * seqLen];

    private int QDim => heads * headDim;
    private int KvDim => kvHeads * headDim;
    private float Scale => 1f / MathF.Sqrt(headDim);

    /// <summary>Floats of the kept probabilities: B·H·T·T.</summary>
    public long ProbabilityCount => (long)batch * heads * seqLen * seqLen;

    /// <summary>att [B·T, H·d] from q [B·T, H·d], k and v [B·T, H_kv·d]; <paramref name="p"/> receives the probabilities.</summary>
    public void Forward(ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> p, Span<float> att)
    {
        var t = seqLen;
        for (var b = 0; b < batch; b++)
            for (var h = 0; h < heads; h++)
            {
                var g = h / (heads / kvHeads);
                Gather(q, b, h, QDim, _qh);
                Gather(k, b, g, KvDim, _kh);
                Gather(v, b, g, KvDim, _vh);
                var ph = p.Slice((int)(((long)b * heads + h) * t * t), t * t);
                DenseOps.MatMulT(_qh, t, headDim, _kh, t, ph);
                for (var i = 0; i < t; i++)
                {
                    var row = ph.Slice(i * t, t);
                    var lo = window > 0 ? Math.Max(0, i - window + 1) : 0;
                    row[..lo].Clear();
                    var live = row[lo..(i + 1)];
                    TensorPrimitives.Multiply(live, Scale, live);
                    TensorPrimitives.SoftMax(live, live);
                    row[(i + 1)..].Clear();
                }
                DenseOps.Transpose(_vh, t, headDim, _vhT);
                DenseOps.MatMulT(ph, t, t, _vhT, headDim, _oh);
                Scatter(_oh, b, h, QDim, att, add: false);
            }
    }

    /// <summary>dq (overwritten), dk and dv (overwritten) from dAtt and what <see cref="Forward"/> kept.</summary>
    public void Backward(ReadOnlySpan<float> dAtt, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v, ReadOnlySpan<float> p,
        Span<float> dq, Span<float> dk, Span<float> dv)
    {
        var t = seqLen;
        dk.Clear();
        dv.Clear();
        var dOh = _oh;
        var dOhT = new float[t * headDim];
        for (var b = 0; b < batch; b++)
            for (var h = 0; h < heads; h++)
            {
                var g = h / (heads / kvHeads);
                Gather(dAtt, b, h, QDim, dOh);
                Gather(v, b, g, KvDim, _vh);
                var ph = p.Slice((int)(((long)b * heads + h) * t * t), t * t);
                // dV_g += Pᵀ dO
                DenseOps.Transpose(ph, t, t, _tt);
                DenseOps.Transpose(dOh, t, headDim, dOhT);
                DenseOps.MatMulT(_tt, t, t, dOhT, headDim, _vhT);
                Scatter(_vhT, b, g, KvDim, dv, add: true);
                // dP = dO V_gᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
                var dS = _tt2.AsSpan();
                DenseOps.MatMulT(dOh, t, headDim, _vh, t, dS);
                for (var i = 0; i < t; i++)
                {
                    var pr = ph.Slice(i * t, i + 1);
                    var dr = dS.Slice(i * t, t);
                    var dot = TensorPrimitives.Dot(pr, dr[..(i + 1)]);
                    for (var j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - dot) * Scale;
                    dr[(i + 1)..].Clear();
                }
                // dQ_h = dS K_g
                Gather(k, b, g, KvDim, _kh);
                DenseOps.Transpose(_kh, t, headDim, _vhT);
                DenseOps.MatMulT(dS, t, t, _vhT, headDim, _qh);
                Scatter(_qh, b, h, QDim, dq, add: false);
                // dK_g += dSᵀ Q_h
                Gather(q, b, h, QDim, _qh);
                DenseOps.Transpose(dS, t, t, _tt);
                DenseOps.Transpose(_qh, t, headDim, _vhT);
                DenseOps.MatMulT(_tt, t, t, _vhT, headDim, _kh);
                Scatter(_kh, b, g, KvDim, dk, add: true);
            }
    }

    /// <summary>head [T, d] ← rows of sequence b, head h of x [B·T, width].</summary>
    private void Gather(ReadOnlySpan<float> x, int b, int h, int width, Span<float> head)
    {
        for (var i = 0; i < seqLen; i++)
            x.Slice((b * seqLen + i) * width + h * headDim, headDim).CopyTo(head.Slice(i * headDim, headDim));
    }

    private void Scatter(ReadOnlySpan<float> head, int b, int h, int width, Span<float> x, bool add)
    {
        for (var i = 0; i < seqLen; i++)
        {
            var dst = x.Slice((b * seqLen + i) * width + h * headDim, headDim);
            var src = head.Slice(i * headDim, headDim);
            if (add) TensorPrimitives.Add(dst, src, dst);
            else src.CopyTo(dst);
        }
    }
}
