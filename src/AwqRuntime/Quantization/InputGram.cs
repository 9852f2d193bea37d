using AwqRuntime.Native;

namespace AwqRuntime.Quantization;

/// <summary>
/// The Gram matrix G = Σ_t x_t x_tᵀ [K, K] of a linear's cached inputs (GPTQ's H = 2G/n), and through
/// it the output error of a candidate weight Ŵ without running Ŵ over the tokens:
///   Σ_t ‖Ŵx_t − Wx_t‖² = Σ_r Δ_r G Δ_rᵀ,   Δ = Ŵ − W  [N, K].
/// AutoAWQ's scale search runs every candidate over all calibration tokens (T·K·N multiply-adds
/// each); where the inspected module is the linear itself (v_proj → o_proj, up_proj → down_proj) the
/// same loss costs N·K² per candidate once G is formed (T·K² once), which is far less whenever T ≫ K:
/// AutoAWQ's 128 × 512 calibration tokens against K = 2048 or 5632. The loss is exact in exact
/// arithmetic, and in floating point it is the more accurate of the two: it never subtracts the two
/// outputs, only the two weights.
/// </summary>
internal sealed class InputGram
{
    /// <summary>Tokens per chunk: each chunk's product is one fp32 GEMM, the chunks are summed in float64.</summary>
    private const int Chunk = 4096;

    private readonly float[] _g;

    private InputGram(float[] g, int k, long tokens)
    {
        _g = g;
        K = k;
        Tokens = tokens;
    }

    public int K { get; }
    public long Tokens { get; }

    /// <summary>G [K, K] (symmetric).</summary>
    public ReadOnlySpan<float> Matrix => _g;

    /// <summary>
    /// Whether forming G and scoring <paramref name="candidates"/> candidates of an N×K linear through it
    /// costs fewer multiply-adds than running them over the tokens: K²·(T + c·N) against c·T·K·N.
    /// </summary>
    public static bool Pays(long tokens, int k, int n, int candidates) =>
        (double)k * k * (tokens + (double)candidates * n) < (double)candidates * tokens * k * n;

    /// <summary>G of x [tokens, k] row-major, in chunks of tokens on the native fp32 GEMM, summed in float64.</summary>
    public static InputGram FromInputs(ReadOnlySpan<float> x, long tokens, int k)
    {
        if (tokens <= 0 || k <= 0) throw new ArgumentException($"Gram matrix of {tokens} tokens x {k} features");
        if (x.Length < tokens * k) throw new ArgumentException($"inputs hold {x.Length} values, expected {tokens}x{k}");
        var sum = new double[(long)k * k];
        var chunk = (int)Math.Min(Chunk, tokens);
        var xT = new float[(long)k * chunk];
        var part = new float[(long)k * k];
        for (long t0 = 0; t0 < tokens; t0 += chunk)
        {
            var len = (int)Math.Min(chunk, tokens - t0);
            // xT [k, len]: each feature's values over the chunk's tokens, contiguous
            Qat.DenseOps.Transpose(x.Slice((int)(t0 * k), len * k), len, k, xT.AsSpan(0, k * len));
            // part[i, j] = Σ_t xT[i, t] · xT[j, t]
            Kernels.F32Gemm(xT.AsSpan(0, k * len), k, len, xT.AsSpan(0, k * len), k, part);
            for (var i = 0; i < part.Length; i++) sum[i] += part[i];
        }
        var g = new float[sum.Length];
        for (var i = 0; i < g.Length; i++) g[i] = (float)sum[i];
        return new InputGram(g, k, tokens);
    }

    /// <summary>
    /// Σ_t ‖(Ŵ − W) x_t‖² for W = <paramref name="reference"/> and Ŵ = <paramref name="candidate"/>, both [n, K];
    /// <paramref name="delta"/> and <paramref name="product"/> are scratch of n·K floats each.
    /// </summary>
    public double SumSquaredError(ReadOnlySpan<float> reference, ReadOnlySpan<float> candidate, int n, Span<float> delta, Span<float> product)
    {
        var size = n * K;
        if (reference.Length != size || candidate.Length != size) throw new ArgumentException($"weights of {reference.Length} and {candidate.Length} values for {n}x{K}");
        delta = delta[..size];
        product = product[..size];
        System.Numerics.Tensors.TensorPrimitives.Subtract(candidate, reference, delta);
        // product = Δ·Gᵀ = Δ·G (G is symmetric)
        Kernels.F32Gemm(delta, n, K, _g, K, product);
        double total = 0;
        for (var r = 0; r < n; r++)
            total += System.Numerics.Tensors.TensorPrimitives.Dot(delta.Slice(r * K, K), product.Slice(r * K, K));
        return total;
    }
}
