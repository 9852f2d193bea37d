namespace AwqRuntime.Model;

/// <summary>Which native product an <see cref="Int4Linear"/> runs (`--kernel w4a16|w4a8`).</summary>
public enum Int4Kernel
{
    /// <summary>
    /// awq_w4a16_gemm: each INT4 weight dequantized and multiplied with the fp32 activation — the
    /// exact product of the checkpoint's weights (AutoAWQ's WQLinear_GEMM computes the same in fp16).
    /// </summary>
    W4A16,

    /// <summary>
    /// awq_w4a8_gemm_f32: the activation rounded to int8 per row and weight group (symmetric,
    /// max|x|/127), integer dot products with the INT4 weights (AVX-512 VNNI vpdpbusd, AVX2 maddubs),
    /// group scales applied in fp32 — the scheme of llama.cpp's Q4_0 × Q8_0 dot product
    /// (ggml-cpu/arch/x86/quants.c, ggml_vec_dot_q4_0_q8_0). Faster; the int8 rounding of x is its cost.
    /// </summary>
    W4A8,
}

public static class Int4Kernels
{
    public static Int4Kernel Parse(string? name) => name?.ToLowerInvariant() switch
    {
        null or "w4a16" => Int4Kernel.W4A16,
        "w4a8" => Int4Kernel.W4A8,
        _ => throw new ArgumentException($"--kernel '{name}' is not 'w4a16' or 'w4a8'"),
    };

    public static string Name(this Int4Kernel k) => k == Int4Kernel.W4A8 ? "w4a8" : "w4a16";
}
