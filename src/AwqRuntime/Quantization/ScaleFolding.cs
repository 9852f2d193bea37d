using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// Folds AWQ scales into the model so that the full-precision function is unchanged (AWQ paper §3.2;
/// AutoAWQ awq/quantize/scale.py apply_scale): the linears' input columns are multiplied by s and the
/// op that produces their input divides its output by s — an RMSNorm by dividing its weight
/// (scale_ln_fcs), a linear by dividing its output rows and its bias (scale_fc_fc; exact for
/// up_proj→down_proj because SwiGLU is linear in up, and for v_proj→o_proj because attention is
/// linear in V). The scaled linears' own biases are untouched: a bias is added after the matmul, so
/// W·diag(s)·(x/s) + b = W·x + b.
/// </summary>
public static class ScaleFolding
{
    public static void Apply(LlamaBlock block, ScaleSearchResult result)
    {
        var s = result.Scales;
        foreach (var kind in result.Linears)
            ScaleInputColumns(AsFloat(block[kind], kind), s);
        if (result.PrevOp.Norm is { } norm) DivideVector(block.Norm(norm), s);
        else
        {
            var prev = result.PrevOp.Linear!.Value;
            DivideOutputRows(AsFloat(block[prev], prev), s);
            if (block.Bias(prev) is { } bias) DivideTail(bias, s);
        }
    }

    internal static void ScaleInputColumns(FloatLinear l, float[] s)
    {
        if (s.Length != l.InFeatures) throw new ArgumentException($"{s.Length} scales for {l.InFeatures} input columns");
        for (var n = 0; n < l.OutFeatures; n++)
        {
            var row = l.Weight.AsSpan(n * l.InFeatures, l.InFeatures);
            for (var c = 0; c < row.Length; c++) row[c] *= s[c];
        }
    }

    /// <summary>Divides the LAST s.Length output rows by s (AutoAWQ's scale_fc_fc).</summary>
    internal static void DivideOutputRows(FloatLinear l, float[] s)
    {
        if (s.Length > l.OutFeatures) throw new ArgumentException($"{s.Length} scales for {l.OutFeatures} output rows");
        var first = l.OutFeatures - s.Length;
        for (var i = 0; i < s.Length; i++)
        {
            var row = l.Weight.AsSpan((first + i) * l.InFeatures, l.InFeatures);
            for (var c = 0; c < row.Length; c++) row[c] /= s[i];
        }
    }

    /// <summary>Divides the last s.Length entries of a bias by s, matching <see cref="DivideOutputRows"/>.</summary>
    internal static void DivideTail(float[] bias, float[] s)
    {
        if (s.Length > bias.Length) throw new ArgumentException($"{s.Length} scales for a bias of {bias.Length}");
        var first = bias.Length - s.Length;
        for (var i = 0; i < s.Length; i++) bias[first + i] /= s[i];
    }

    internal static void DivideVector(float[] v, float[] s)
    {
        if (s.Length != v.Length) throw new ArgumentException($"{s.Length} scales for a norm of width {v.Length}");
        for (var i = 0; i < v.Length; i++) v[i] /= s[i];
    }

    /// <summary>x[:, c] /= s[c] on cached activations [rows, s.Length].</summary>
    internal static void DivideColumns(float[] x, float[] s)
    {
        var k = s.Length;
        for (long off = 0; off < x.Length; off += k)
            for (var c = 0; c < k; c++) x[off + c] /= s[c];
    }

    private static FloatLinear AsFloat(ILinear l, LinearKind kind) =>
        l as FloatLinear ?? throw new InvalidOperationException($"{kind.Name()} is already quantized; scales must be folded into full-precision weights");
}
