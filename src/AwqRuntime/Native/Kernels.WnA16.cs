namespace AwqRuntime.Native;

public static unsafe partial class Kernels
{
    /// <summary>
    /// y[m,n] = x[m,k] · dequant(W)ᵀ with group-wise weights of <paramref name="bits"/> = 2, 3, 4 or 8 in
    /// the kernel's lane-interleaved layout (<see cref="Quantization.WnA16Layout"/>): <paramref name="qweight"/>
    /// [n, 8·ceil(k / (8·pl))] words, pl = floor(32 / bits), unsigned codes;
    /// <paramref name="scales"/> and <paramref name="zeros"/> (0..2^bits − 1) [n, ceil(k/groupSize)];
    /// W[r,j] = (q − zero) · scale of group j / groupSize, the last group of a row may be shorter.
    /// </summary>
    public static void WnA16Gemm(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<int> qweight, int bits, ReadOnlySpan<Half> scales,
                                 ReadOnlySpan<byte> zeros, int n, int groupSize, Span<float> y)
    {
        const string fn = "awq_wna16_gemm";
        // Lengths only make sense for a valid shape; otherwise the native call names the bad argument.
        if (m > 0 && k > 0 && n > 0 && groupSize > 0 && bits is 2 or 3 or 4 or 8)
        {
            long groups = Numerics.QuantGroups.Count((long)k, groupSize);
            RequireLength(x, (long)m * k, fn, "x");
            RequireLength(qweight, n * Quantization.WnA16Layout.WordsPerRow(k, bits), fn, "qweight");
            RequireLength(scales, n * groups, fn, "scales");
            RequireLength(zeros, n * groups, fn, "zeros");
            RequireLength(y, (long)m * n, fn, "y");
        }
        fixed (float* px = x, py = y)
        fixed (int* pq = qweight)
        fixed (byte* pz = zeros)
        fixed (Half* ps = scales)
            NativeMethods.Check(NativeMethods.awq_wna16_gemm(px, m, k, pq, bits, (ushort*)ps, pz, n, groupSize, py), fn);
    }
}
