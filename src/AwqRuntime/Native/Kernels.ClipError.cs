namespace AwqRuntime.Native;

/// <summary>AWQ's clip-search error, the "AWQ's clip search" section of awq_kernels.h.</summary>
public static unsafe partial class Kernels
{
    /// <summary>
    /// err[n·ng + g] = (1/m) Σ_t (Σ_{c∈g} x[t,c]·d[n,c])², ng = ceil(k / groupSize): the mean squared
    /// partial output of every quantization group of the weight error <paramref name="d"/> [n, k] on
    /// the calibration rows <paramref name="x"/> [m, k] (AutoAWQ's _compute_best_clip). The same
    /// bits on every SIMD path and thread count.
    /// </summary>
    public static void ClipError(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<float> d, int n, int groupSize, Span<double> err)
    {
        const string fn = "awq_clip_error";
        RequireLength(x, (long)m * k, fn, "x");
        RequireLength(d, (long)n * k, fn, "d");
        if (groupSize > 0 && k > 0) RequireLength(err, (long)n * Numerics.QuantGroups.Count(k, groupSize), fn, "err");
        fixed (float* px = x, pd = d)
        fixed (double* pe = err)
            NativeMethods.Check(NativeMethods.awq_clip_error(px, m, k, pd, n, groupSize, pe), fn);
    }
}
