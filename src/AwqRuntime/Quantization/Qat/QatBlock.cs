using System.Numerics.Tensors;
using AwqRuntime.Model;
using AwqRuntime.Native;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// One decoder block under training, the runtime's block (<see cref="LlamaForward"/>) written out with
/// every intermediate kept for the reverse pass:
///   h1 = rmsnorm(x)·w₁;  q,k,v = h1·Wᵀ (+ b);  rope(q), rope(k);  a = attention(q,k,v);  x1 = x + a·W_oᵀ
///   h2 = rmsnorm(x1)·w₂;  g,u = h2·Wᵀ;  m = silu(g)·u;  x2 = x1 + m·W_downᵀ
/// Biases are fixed; the two norms (<see cref="QatNorm"/>) and the seven linears (<see cref="QatLinear"/>) learn.
/// </summary>
internal sealed class QatBlock
{
    private readonly LlamaConfig _c;
    private readonly int _rows;
    private readonly RopeTable _rope;
    private readonly CausalAttention _attention;
    private readonly float[] _xIn, _h1, _q, _k, _v, _p, _att, _x1, _h2, _g, _u, _m;

    public QatBlock(LlamaConfig c, QatNorm attnNorm, QatNorm ffnNorm, QatLinear[] linears, float[]?[] biases,
        int rows, RopeTable rope, CausalAttention attention)
    {
        _c = c;
        AttnNorm = attnNorm;
        FfnNorm = ffnNorm;
        Linears = linears;
        Biases = biases;
        _rows = rows;
        _rope = rope;
        _attention = attention;
        long d = c.HiddenSize, f = c.IntermediateSize;
        _xIn = new float[rows * d];
        _h1 = new float[rows * d];
        _q = new float[(long)rows * c.QDim];
        _k = new float[(long)rows * c.KvDim];
        _v = new float[(long)rows * c.KvDim];
        _p = new float[attention.ProbabilityCount];
        _att = new float[(long)rows * c.QDim];
        _x1 = new float[rows * d];
        _h2 = new float[rows * d];
        _g = new float[rows * f];
        _u = new float[rows * f];
        _m = new float[rows * f];
    }

    public QatNorm AttnNorm { get; }
    public QatNorm FfnNorm { get; }
    public QatLinear[] Linears { get; }
    public float[]?[] Biases { get; }

    private QatLinear L(LinearKind kind) => Linears[(int)kind];

    /// <summary>xOut [rows, hidden] = the block applied to x (x is kept for the reverse pass).</summary>
    public void Forward(ReadOnlySpan<float> x, Span<float> xOut)
    {
        var c = _c;
        int m = _rows, d = c.HiddenSize;
        x.CopyTo(_xIn);
        Kernels.RmsNorm(_xIn, AttnNorm.Value, m, d, c.RmsNormEps, _h1);
        Linear(LinearKind.QProj, _h1, _q);
        Linear(LinearKind.KProj, _h1, _k);
        Linear(LinearKind.VProj, _h1, _v);
        _rope.Apply(_q, m, c.NumHeads, reverse: false);
        _rope.Apply(_k, m, c.NumKvHeads, reverse: false);
        _attention.Forward(_q, _k, _v, _p, _att);
        Linear(LinearKind.OProj, _att, _x1);
        TensorPrimitives.Add(_x1, _xIn, _x1);
        Kernels.RmsNorm(_x1, FfnNorm.Value, m, d, c.RmsNormEps, _h2);
        Linear(LinearKind.GateProj, _h2, _g);
        Linear(LinearKind.UpProj, _h2, _u);
        Kernels.SiluMul(_g, _u, _m.Length, _m);
        Linear(LinearKind.DownProj, _m, xOut);
        TensorPrimitives.Add(xOut, _x1, xOut);
    }

    /// <summary>dx (overwritten) from dOut (the gradient of the block's output; clobbered); the linears accumulate their weight gradients.</summary>
    public void Backward(Span<float> dOut, Span<float> dx, float[] scratch)
    {
        var c = _c;
        int m = _rows, d = c.HiddenSize;
        long f = c.IntermediateSize;
        // x2 = x1 + down(m): dx1 = dOut + (through the MLP)
        var dm = new float[m * f];
        L(LinearKind.DownProj).Backward(dOut, _m, m, dm, scratch);
        var dg = new float[m * f];
        var du = new float[m * f];
        for (long i = 0; i < dm.Length; i++)
        {
            var g = _g[i];
            var sig = 1f / (1f + MathF.Exp(-g));
            du[i] = dm[i] * g * sig;
            dg[i] = dm[i] * _u[i] * sig * (1f + g * (1f - sig));
        }
        var dh2 = new float[m * d];
        L(LinearKind.GateProj).Backward(dg, _h2, m, dh2, scratch);
        L(LinearKind.UpProj).BackwardAdd(du, _h2, m, dh2, scratch);
        var dx1 = dOut; // dx1 = dOut + rmsnorm'(dh2)
        RmsNormGrad.Accumulate(_x1, FfnNorm.Value, dh2, m, d, c.RmsNormEps, dx1, FfnNorm.Gradient);
        // x1 = x + o(att)
        var dAtt = new float[(long)m * c.QDim];
        L(LinearKind.OProj).Backward(dx1, _att, m, dAtt, scratch);
        var dq = new float[(long)m * c.QDim];
        var dk = new float[(long)m * c.KvDim];
        var dv = new float[(long)m * c.KvDim];
        _attention.Backward(dAtt, _q, _k, _v, _p, dq, dk, dv);
        _rope.Apply(dq, m, c.NumHeads, reverse: true);
        _rope.Apply(dk, m, c.NumKvHeads, reverse: true);
        var dh1 = new float[m * d];
        L(LinearKind.QProj).Backward(dq, _h1, m, dh1, scratch);
        L(LinearKind.KProj).BackwardAdd(dk, _h1, m, dh1, scratch);
        L(LinearKind.VProj).BackwardAdd(dv, _h1, m, dh1, scratch);
        dx1.CopyTo(dx);
        RmsNormGrad.Accumulate(_xIn, AttnNorm.Value, dh1, m, d, c.RmsNormEps, dx, AttnNorm.Gradient);
    }

    private void Linear(LinearKind kind, ReadOnlySpan<float> x, Span<float> y)
    {
        var l = L(kind);
        l.Forward(x, _rows, y);
        if (Biases[(int)kind] is { } b)
            for (var r = 0; r < _rows; r++)
            {
                var row = y.Slice(r * l.N, l.N);
                TensorPrimitives.Add(row, b, row);
            }
    }
}
