using AwqRuntime.Numerics;

namespace AwqRuntime.Native;

/// <summary>Number formats, quantizers and INT4 packing on the native library (bit-identical to the managed <see cref="Numerics"/> classes).</summary>
public static unsafe partial class Kernels
{
    public static void Fp32ToFp16(ReadOnlySpan<float> source, Span<ushort> destination) =>
        Convert(source, destination, &NativeMethods.awq_fp32_to_fp16, "awq_fp32_to_fp16");

    public static void Fp16ToFp32(ReadOnlySpan<ushort> source, Span<float> destination) =>
        Convert(source, destination, &NativeMethods.awq_fp16_to_fp32, "awq_fp16_to_fp32");

    public static void Fp32ToBf16(ReadOnlySpan<float> source, Span<ushort> destination) =>
        Convert(source, destination, &NativeMethods.awq_fp32_to_bf16, "awq_fp32_to_bf16");

    public static void Bf16ToFp32(ReadOnlySpan<ushort> source, Span<float> destination) =>
        Convert(source, destination, &NativeMethods.awq_bf16_to_fp32, "awq_bf16_to_fp32");

    /// <summary>One element-wise conversion entry point (src, dst, n): the length check and the pinning they share.</summary>
    private static void Convert<TSource, TDestination>(ReadOnlySpan<TSource> source, Span<TDestination> destination,
        delegate*<TSource*, TDestination*, long, int> convert, string fn)
        where TSource : unmanaged where TDestination : unmanaged
    {
        RequireLength(destination, source.Length, fn, "dst");
        fixed (TSource* s = source)
        fixed (TDestination* d = destination)
            NativeMethods.Check(convert(s, d, source.Length), fn);
    }

    /// <summary>awq_quantize: x [rows, cols] → q [rows, cols], scales and zeros [rows, ceil(cols/groupSize)].</summary>
    public static void Quantize(ReadOnlySpan<float> x, long rows, long cols, long groupSize, int bits, QuantScheme scheme,
                                Span<int> q, Span<float> scales, Span<int> zeros)
    {
        const string fn = "awq_quantize";
        if (Numel(rows, cols) is long numel)
        {
            RequireLength(x, numel, fn, "x");
            RequireLength(q, numel, fn, "q");
        }
        RequireGroupParams(scales, zeros, rows, cols, groupSize, fn);
        fixed (float* px = x)
        fixed (int* pq = q)
        fixed (float* ps = scales)
        fixed (int* pz = zeros)
            NativeMethods.Check(NativeMethods.awq_quantize(px, rows, cols, groupSize, bits, (int)scheme, pq, ps, pz), fn);
    }

    /// <summary>scales and zeros hold one entry per group: [rows, ceil(cols/groupSize)] (checked only for a valid shape; the native call names a bad one).</summary>
    private static void RequireGroupParams(ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros, long rows, long cols, long groupSize, string fn)
    {
        if (groupSize <= 0 || cols < 0 || Numel(rows, Numerics.QuantGroups.Count(cols, groupSize)) is not long nScales) return;
        RequireLength(scales, nScales, fn, "scales");
        RequireLength(zeros, nScales, fn, "zeros");
    }

    /// <summary>The native counterpart of <see cref="Quantizer.Quantize(ReadOnlySpan{float}, int, int, QuantSpec)"/> (same bits).</summary>
    public static QuantizedTensor Quantize(ReadOnlySpan<float> data, int rows, int cols, QuantSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (lr, lc, g) = spec.Layout(rows, cols);
        if (data.Length != (long)rows * cols)
            throw new ArgumentException($"awq_quantize: argument 'x' has {data.Length} elements, the shape needs {(long)rows * cols}", nameof(data));
        var q = new int[(long)lr * lc];
        var scales = new float[(long)lr * Quantizer.GroupsPerRow(lc, g)];
        var zeros = new int[scales.Length];
        Quantize(data, lr, lc, g, spec.Bits, spec.Scheme, q, scales, zeros);
        return new QuantizedTensor(rows, cols, spec, q, scales, zeros);
    }

    /// <summary>awq_dequantize: output = (q - zero) * scale.</summary>
    public static void Dequantize(ReadOnlySpan<int> q, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros, long rows, long cols,
                                  long groupSize, Span<float> output)
    {
        const string fn = "awq_dequantize";
        if (Numel(rows, cols) is long numel)
        {
            RequireLength(q, numel, fn, "q");
            RequireLength(output, numel, fn, "out");
        }
        RequireGroupParams(scales, zeros, rows, cols, groupSize, fn);
        fixed (int* pq = q)
        fixed (float* ps = scales)
        fixed (int* pz = zeros)
        fixed (float* po = output)
            NativeMethods.Check(NativeMethods.awq_dequantize(pq, ps, pz, rows, cols, groupSize, po), fn);
    }

    /// <summary>Dequantizes <paramref name="tensor"/> on the native side.</summary>
    public static void Dequantize(QuantizedTensor tensor, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Dequantize(tensor.Q, tensor.Scales, tensor.Zeros, tensor.LayoutRows, tensor.LayoutCols, tensor.GroupSize, output);
    }

    /// <summary>awq_quant_error: MSE and max |a - b|, accumulated in double (same doubles as <see cref="QuantizationError.Compute"/>).</summary>
    public static QuantizationError QuantError(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        const string fn = "awq_quant_error";
        if (a.Length != b.Length)
            throw new ArgumentException($"{fn}: arguments 'a' and 'b' differ in length ({a.Length} vs {b.Length})", nameof(b));
        double mse, maxAbs;
        fixed (float* pa = a)
        fixed (float* pb = b)
            NativeMethods.Check(NativeMethods.awq_quant_error(pa, pb, a.Length, &mse, &maxAbs), fn);
        return new QuantizationError(mse, maxAbs);
    }

    /// <summary>awq_pack_int4: q [rows, cols] (0..15) → packed [rows, ceil(cols/8)].</summary>
    public static void PackInt4(ReadOnlySpan<int> q, long rows, long cols, PackOrder order, Span<int> packed)
    {
        const string fn = "awq_pack_int4";
        if (Numel(rows, cols) is long numel) RequireLength(q, numel, fn, "q");
        if (cols > 0 && Numel(rows, cols / 8 + (cols % 8 != 0 ? 1 : 0)) is long words) RequireLength(packed, words, fn, "packed");
        fixed (int* pq = q)
        fixed (int* pp = packed)
            NativeMethods.Check(NativeMethods.awq_pack_int4(pq, rows, cols, (int)order, pp), fn);
    }

    /// <summary>awq_unpack_int4: packed [rows, ceil(cols/8)] → q [rows, cols].</summary>
    public static void UnpackInt4(ReadOnlySpan<int> packed, long rows, long cols, PackOrder order, Span<int> q)
    {
        const string fn = "awq_unpack_int4";
        if (Numel(rows, cols) is long numel) RequireLength(q, numel, fn, "q");
        if (cols > 0 && Numel(rows, cols / 8 + (cols % 8 != 0 ? 1 : 0)) is long words) RequireLength(packed, words, fn, "packed");
        fixed (int* pp = packed)
        fixed (int* pq = q)
            NativeMethods.Check(NativeMethods.awq_unpack_int4(pp, rows, cols, (int)order, pq), fn);
    }

    /// <summary>a*b when both are positive and the product fits; otherwise null, leaving the native side to name the bad size.</summary>
    private static long? Numel(long a, long b)
    {
        if (a <= 0 || b <= 0 || a > long.MaxValue / b) return null;
        return a * b;
    }
}
