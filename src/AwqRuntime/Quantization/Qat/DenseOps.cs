using System.Numerics.Tensors;
using AwqRuntime.Native;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// The matrix products of a linear layer y = x·Wᵀ and of its reverse pass, on the native fp32 GEMM
/// (awq_f32_gemm computes y[m,n] = Σ_k x[m,k]·w[n,k]):
///   dx = dy·W   = gemm(dy, Wᵀ)        [M,N]·[N,K]
///   dW = dyᵀ·x  = gemm(dyᵀ, xᵀ)       [N,M]·[M,K]
/// The transposes cost O(M·(N+K)) next to the products' O(M·N·K).
/// </summary>
internal static class DenseOps
{
    /// <summary>dst [cols, rows] = src [rows, cols]ᵀ.</summary>
    public static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        const int tile = 32;
        for (var r0 = 0; r0 < rows; r0 += tile)
            for (var c0 = 0; c0 < cols; c0 += tile)
            {
                var r1 = Math.Min(rows, r0 + tile);
                var c1 = Math.Min(cols, c0 + tile);
                for (var r = r0; r < r1; r++)
                    for (var c = c0; c < c1; c++)
                        dst[c * rows + r] = src[r * cols + c];
            }
    }

    /// <summary>y [M,N] = x [M,K] · w [N,K]ᵀ.</summary>
    public static void MatMulT(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<float> w, int n, Span<float> y) =>
        Kernels.F32Gemm(x, m, k, w, n, y);

    /// <summary>dx [M,K] = dy [M,N] · w [N,K], with <paramref name="wT"/> = wᵀ [K,N] already formed.</summary>
    public static void InputGradient(ReadOnlySpan<float> dy, int m, int n, ReadOnlySpan<float> wT, int k, Span<float> dx) =>
        Kernels.F32Gemm(dy, m, n, wT, k, dx);

    /// <summary>dW [N,K] += dy [M,N]ᵀ · x [M,K]; <paramref name="scratch"/> holds at least M·(N+K) + N·K floats.</summary>
    public static void AccumulateWeightGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, int m, int n, int k, Span<float> dW, float[] scratch)
    {
        var dyT = scratch.AsSpan(0, m * n);
        var xT = scratch.AsSpan(m * n, m * k);
        var prod = scratch.AsSpan(m * n + m * k, n * k);
        Transpose(dy, m, n, dyT);
        Transpose(x, m, k, xT);
        Kernels.F32Gemm(dyT, n, m, xT, k, prod);
        TensorPrimitives.Add(dW, prod, dW);
    }
}
