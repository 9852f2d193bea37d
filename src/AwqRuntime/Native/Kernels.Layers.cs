namespace AwqRuntime.Native;

/// <summary>
/// The FP32 layers of the LLaMA forward pass: dense GEMM (fp32 or fp16 weights), RMSNorm, RoPE,
/// causal grouped-query attention over a KV cache, SwiGLU's silu·mul and softmax. Shapes are
/// passed explicitly, as in the C ABI; spans must hold at least what the shape needs.
/// </summary>
public static unsafe partial class Kernels
{
    /// <summary>y[m,n] = x[m,k] · w[n,k]ᵀ with fp32 weights (row-major W [N,K], like nn.Linear.weight).</summary>
    public static void F32Gemm(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<float> w, int n, Span<float> y)
    {
        const string fn = "awq_f32_gemm";
        RequireLength(x, (long)m * k, fn, "x");
        RequireLength(w, (long)n * k, fn, "w");
        RequireLength(y, (long)m * n, fn, "y");
        fixed (float* px = x, pw = w, py = y)
            NativeMethods.Check(NativeMethods.awq_f32_gemm(px, m, k, pw, n, py), fn);
    }

    /// <summary>y[m,n] = x[m,k] · w[n,k]ᵀ with fp16 weights, widened exactly and accumulated in fp32.</summary>
    public static void F16Gemm(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<Half> w, int n, Span<float> y)
    {
        const string fn = "awq_f16_gemm";
        RequireLength(x, (long)m * k, fn, "x");
        RequireLength(w, (long)n * k, fn, "w");
        RequireLength(y, (long)m * n, fn, "y");
        fixed (float* px = x, py = y)
        fixed (Half* pw = w)
            NativeMethods.Check(NativeMethods.awq_f16_gemm(px, m, k, (ushort*)pw, n, py), fn);
    }

    /// <summary>
    /// y[r,:] = x[r,:] / sqrt(mean(x[r,:]²) + eps) · weight for each of the <paramref name="m"/> rows of
    /// width <paramref name="d"/>. x and y may be the same memory.
    /// </summary>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, int m, int d, float eps, Span<float> y)
    {
        const string fn = "awq_rmsnorm";
        RequireLength(x, (long)m * d, fn, "x");
        RequireLength(weight, d, fn, "weight");
        RequireLength(y, (long)m * d, fn, "y");
        fixed (float* px = x, pw = weight, py = y)
            NativeMethods.Check(NativeMethods.awq_rmsnorm(px, pw, m, d, eps, py), fn);
    }

    /// <summary>
    /// The residual add fused before <see cref="RmsNorm"/>: x += delta, then y = rmsnorm(x) · weight,
    /// bit for bit the two steps; y must be other memory than x and delta.
    /// </summary>
    public static void AddRmsNorm(Span<float> x, ReadOnlySpan<float> delta, ReadOnlySpan<float> weight, int m, int d, float eps, Span<float> y)
    {
        const string fn = "awq_add_rmsnorm";
        RequireLength(x, (long)m * d, fn, "x");
        RequireLength(delta, (long)m * d, fn, "delta");
        RequireLength(weight, d, fn, "weight");
        RequireLength(y, (long)m * d, fn, "y");
        fixed (float* px = x, pd = delta, pw = weight, py = y)
            NativeMethods.Check(NativeMethods.awq_add_rmsnorm(px, pd, pw, m, d, eps, py), fn);
    }

    /// <summary>
    /// In-place rotary embedding of x [m, nHeads, headDim], interleaved pairs (2i, 2i+1) rotated by
    /// positions[r]·theta^(−2i/rotDim); dimensions at or beyond rotDim are left unchanged.
    /// </summary>
    public static void Rope(Span<float> x, int m, int nHeads, int headDim, int rotDim, ReadOnlySpan<int> positions, float theta) =>
        Rope(x, m, nHeads, headDim, rotDim, positions, theta, []);

    /// <summary>
    /// The same with per-pair frequency factors: pair i turns by positions[r]·theta^(−2i/rotDim) / freqFactors[i]
    /// (ggml's rope_ext freq_factors; Llama 3.1's rope scaling). Empty factors mean none (awq_rope).
    /// </summary>
    public static void Rope(Span<float> x, int m, int nHeads, int headDim, int rotDim, ReadOnlySpan<int> positions, float theta,
        ReadOnlySpan<float> freqFactors)
    {
        var fn = freqFactors.IsEmpty ? "awq_rope" : "awq_rope_ext";
        RequireLength(x, (long)m * nHeads * headDim, fn, "x");
        RequireLength(positions, m, fn, "pos");
        if (!freqFactors.IsEmpty) RequireLength(freqFactors, rotDim / 2, fn, "freq_factors");
        fixed (float* px = x, pf = freqFactors)
        fixed (int* pp = positions)
            NativeMethods.Check(freqFactors.IsEmpty
                ? NativeMethods.awq_rope(px, m, nHeads, headDim, rotDim, pp, theta)
                : NativeMethods.awq_rope_ext(px, m, nHeads, headDim, rotDim, pp, theta, pf), fn);
    }

    /// <summary>
    /// Causal grouped-query attention of <paramref name="m"/> new query rows q [m, nHeads, headDim]
    /// against caches [nCtx, nKvHeads, headDim] whose rows 0 .. nPast+m−1 are filled (the new keys and
    /// values already written). Query row r sits at position nPast + r and sees cache rows 0 .. nPast + r.
    /// </summary>
    public static void Attention(ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
                                 int m, int nPast, int nCtx, int nHeads, int nKvHeads, int headDim, Span<float> output) =>
        Attention(q, kCache, vCache, m, nPast, nCtx, nHeads, nKvHeads, headDim, 0, output);

    /// <summary>
    /// The same with a sliding window: the query at position p sees cache rows max(0, p − window + 1) .. p
    /// (Mistral's sliding_window). A window of 0 means none (awq_attention).
    /// </summary>
    public static void Attention(ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
                                 int m, int nPast, int nCtx, int nHeads, int nKvHeads, int headDim, int window, Span<float> output)
    {
        var fn = window == 0 ? "awq_attention" : "awq_attention_ext";
        long qLen = (long)m * nHeads * headDim, cacheLen = (long)nCtx * nKvHeads * headDim;
        RequireLength(q, qLen, fn, "q");
        RequireLength(kCache, cacheLen, fn, "k_cache");
        RequireLength(vCache, cacheLen, fn, "v_cache");
        RequireLength(output, qLen, fn, "out");
        fixed (float* pq = q, pk = kCache, pv = vCache, po = output)
            NativeMethods.Check(window == 0
                ? NativeMethods.awq_attention(pq, pk, pv, m, nPast, nCtx, nHeads, nKvHeads, headDim, po)
                : NativeMethods.awq_attention_ext(pq, pk, pv, m, nPast, nCtx, nHeads, nKvHeads, headDim, window, po), fn);
    }

    /// <summary>output[i] = silu(gate[i]) · up[i] for i &lt; n; output may be the same memory as gate or up.</summary>
    public static void SiluMul(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, int n, Span<float> output)
    {
        const string fn = "awq_silu_mul";
        RequireLength(gate, n, fn, "gate");
        RequireLength(up, n, fn, "up");
        RequireLength(output, n, fn, "out");
        fixed (float* pg = gate, pu = up, po = output)
            NativeMethods.Check(NativeMethods.awq_silu_mul(pg, pu, n, po), fn);
    }

    /// <summary>In-place softmax of each of the <paramref name="m"/> rows of x [m, n].</summary>
    public static void Softmax(Span<float> x, int m, int n)
    {
        const string fn = "awq_softmax";
        RequireLength(x, (long)m * n, fn, "x");
        fixed (float* px = x)
            NativeMethods.Check(NativeMethods.awq_softmax(px, m, n), fn);
    }
}
