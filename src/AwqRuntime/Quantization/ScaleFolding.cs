using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// Folds AWQ scales into the model so that the full-precision function is unchanged (reference §1.5):
/// the linears' input columns are multiplied by s and the op that produces their input divides its
/// output by s — an RMSNorm by dividing its weight, a linear by dividing its output rows (exact for
/// up_proj→down_proj because SwiGLU is linear in up, and for v_proj→o_proj because attention is
/// linear in V).
/// </summary>
public static class ScaleFolding
{
    public static void Apply(LlamaBlock block, ScaleSearchResult result)
    {
        var s = result.Scales;
        foreach (var kind in result.Linears)
            ScaleInputColumns(AsFloat(block[kind], kind), s);
        switch (result.PrevOp)
        {
            case "input_layernorm": DivideVector(block.AttnNorm, s); break;
            case "post_attention_layernorm": DivideVector(block.FfnNorm, s); break;
            default: DivideOutputRows(AsFloat(block[result.PrevOp], result.PrevOp), s); break;
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

    private static FloatLinear AsFloat(ILinear l, string kind) =>
        l as FloatLinear ?? throw new InvalidOperationException($"{kind} is already quantized; scales must be folded into full-precision weights");
}
