namespace AwqRuntime.Native;

/// <summary>
/// Quantized matrix products: W4A16 (group-wise INT4 weights, fp32 activations; the decode and
/// prefill path of an AWQ model) and INT8 × INT8 → INT32 with zero points (W8A8). Shapes are
/// passed explicitly, as in the C ABI; spans must hold at least what the shape needs.
/// </summary>
public static unsafe partial class Kernels
{
    /// <summary>
    /// y[m,n] = x[m,k] · dequant(W)ᵀ with W [n, k] in the kernel layout: <paramref name="qweight"/>
    /// [n, ceil(k/2)] bytes, column j in the low nibble of byte j/2 when j is even and in the high
    /// nibble when it is odd; <paramref name="scales"/> and <paramref name="zeros"/> (0..15)
    /// [n, ceil(k/groupSize)]; W[r,j] = (q − zero) · scale of group j / groupSize. The last group of a
    /// row may be shorter than <paramref name="groupSize"/>.
    /// </summary>
    public static void W4A16Gemm(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
                                 ReadOnlySpan<byte> zeros, int n, int groupSize, Span<float> y)
    {
        const string fn = "awq_w4a16_gemm";
        RequireW4A16Lengths(x, m, k, qweight, scales, zeros, n, groupSize, y, fn);
        fixed (float* px = x, py = y)
        fixed (byte* pq = qweight, pz = zeros)
        fixed (Half* ps = scales)
            NativeMethods.Check(NativeMethods.awq_w4a16_gemm(px, m, k, pq, (ushort*)ps, pz, n, groupSize, py), fn);
    }

    /// <summary>The operand lengths of a W4A16 GEMM (CPU or CUDA) for the shape m×k · (n×k)ᵀ.</summary>
    internal static void RequireW4A16Lengths(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
        ReadOnlySpan<byte> zeros, int n, int groupSize, Span<float> y, string fn)
    {
        // Lengths only make sense for a valid shape; otherwise the native call names the bad size.
        if (m <= 0 || k <= 0 || n <= 0 || groupSize <= 0) return;
        long groups = Numerics.QuantGroups.Count((long)k, groupSize);
        RequireLength(x, (long)m * k, fn, "x");
        RequireLength(qweight, (long)n * (((long)k + 1) / 2), fn, "qweight");
        RequireLength(scales, n * groups, fn, "scales");
        RequireLength(zeros, n * groups, fn, "zeros");
        RequireLength(y, (long)m * n, fn, "y");
    }

    /// <summary>
    /// acc[m,n] = Σ_k (xq[m,k] − xZero[m]) · (wq[n,k] − wZero[n]), exact in int32. xZero in 0..255;
    /// wZero in −128..127, or empty for symmetric weights (zero points of 0). k·255·255 must stay
    /// below 2³¹ (k ≤ 33025).
    /// </summary>
    public static void Int8Gemm(ReadOnlySpan<byte> xq, ReadOnlySpan<int> xZero, int m, int k, ReadOnlySpan<sbyte> wq,
                                ReadOnlySpan<int> wZero, int n, Span<int> acc)
    {
        const string fn = "awq_int8_gemm";
        if (m > 0 && k > 0 && n > 0)
        {
            RequireLength(xq, (long)m * k, fn, "xq");
            RequireLength(xZero, m, fn, "x_zero");
            RequireLength(wq, (long)n * k, fn, "wq");
            if (!wZero.IsEmpty) RequireLength(wZero, n, fn, "w_zero");
            RequireLength(acc, (long)m * n, fn, "acc");
        }
        fixed (byte* px = xq)
        fixed (sbyte* pw = wq)
        fixed (int* pxz = xZero, pwz = wZero, pa = acc)
            NativeMethods.Check(NativeMethods.awq_int8_gemm(px, pxz, m, k, pw, wZero.IsEmpty ? null : pwz, n, pa), fn);
    }

    /// <summary>
    /// y[m,n] = xScale[m] · wScale[n] · acc[m,n] with acc as in <see cref="Int8Gemm"/>: the
    /// dequantized product Xf·Wfᵀ of per-row asymmetric activations and per-channel weights.
    /// </summary>
    public static void Int8GemmF32(ReadOnlySpan<byte> xq, ReadOnlySpan<int> xZero, ReadOnlySpan<float> xScale, int m, int k,
                                   ReadOnlySpan<sbyte> wq, ReadOnlySpan<int> wZero, ReadOnlySpan<float> wScale, int n,
                                   Span<float> y)
    {
        const string fn = "awq_int8_gemm_f32";
        if (m > 0 && k > 0 && n > 0)
        {
            RequireLength(xq, (long)m * k, fn, "xq");
            RequireLength(xZero, m, fn, "x_zero");
            RequireLength(xScale, m, fn, "x_scale");
            RequireLength(wq, (long)n * k, fn, "wq");
            if (!wZero.IsEmpty) RequireLength(wZero, n, fn, "w_zero");
            RequireLength(wScale, n, fn, "w_scale");
            RequireLength(y, (long)m * n, fn, "y");
        }
        fixed (byte* px = xq)
        fixed (sbyte* pw = wq)
        fixed (int* pxz = xZero, pwz = wZero)
        fixed (float* pxs = xScale, pws = wScale, py = y)
            NativeMethods.Check(
                NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, m, k, pw, wZero.IsEmpty ? null : pwz, pws, n, py), fn);
    }
}
