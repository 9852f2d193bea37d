using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization;

/// <summary>
/// AutoAWQ's pseudo_quantize_tensor on the rows of a weight matrix [rows, cols], groups along cols
/// (the native awq_quantize with the AWQ scheme: scale = max(max−min, 1e−5)/(2^b−1) rounded to fp16,
/// zero = clamp(−round(min/scale), 0, 2^b−1), q = clamp(round(w/scale)+zero, 0, 2^b−1)).
/// The scale search and the clip search call it thousands of times, so it runs natively.
/// </summary>
public static class GroupQuantizer
{
    /// <summary>Quantizes w [rows, cols] into integers, scales and zero points.</summary>
    public static QuantizedWeights Quantize(ReadOnlySpan<float> w, int rows, int cols, int groupSize, int bits)
    {
        var groups = QuantGroups.Count(cols, groupSize);
        var q = new int[(long)rows * cols];
        var scales = new float[(long)rows * groups];
        var zeros = new int[(long)rows * groups];
        Kernels.Quantize(w, rows, cols, groupSize, bits, QuantScheme.Awq, q, scales, zeros);
        var qb = new byte[q.Length];
        for (var i = 0; i < q.Length; i++) qb[i] = (byte)q[i];
        var zb = new byte[zeros.Length];
        for (var i = 0; i < zeros.Length; i++) zb[i] = (byte)zeros[i];
        // The native quantizer rounds every scale to fp16 already (AutoAWQ stores fp16): keep its bits.
        var sb = new ushort[scales.Length];
        for (var i = 0; i < scales.Length; i++) sb[i] = Fp16.FromSingle(scales[i]);
        return new QuantizedWeights(rows, cols, groupSize, bits, qb, sb, zb);
    }

    /// <summary>w ← dequant(quant(w)) in place, reusing caller scratch (q: rows*cols, scales/zeros: rows*groups).</summary>
    public static void PseudoQuantize(Span<float> w, int rows, int cols, int groupSize, int bits, Scratch scratch)
    {
        scratch.Ensure(rows, cols, groupSize);
        Kernels.Quantize(w, rows, cols, groupSize, bits, QuantScheme.Awq, scratch.Q, scratch.Scales, scratch.Zeros);
        Kernels.Dequantize(scratch.Q, scratch.Scales, scratch.Zeros, rows, cols, groupSize, w);
    }

    /// <summary>Reusable integer/scale buffers for <see cref="PseudoQuantize"/>.</summary>
    public sealed class Scratch
    {
        internal int[] Q = [];
        internal float[] Scales = [];
        internal int[] Zeros = [];

        internal void Ensure(int rows, int cols, int groupSize)
        {
            var n = (long)rows * cols;
            var g = (long)rows * QuantGroups.Count(cols, groupSize);
            if (Q.Length < n) Q = new int[n];
            if (Scales.Length < g) { Scales = new float[g]; Zeros = new int[g]; }
        }
    }
}
