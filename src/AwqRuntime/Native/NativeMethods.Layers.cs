using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>Bindings of the "FP32 building blocks of the LLaMA forward pass" section of awq_kernels.h.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)]
    internal static partial int awq_f32_gemm(float* x, long m, long k, float* w, long n, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_f16_gemm(float* x, long m, long k, ushort* w, long n, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_rmsnorm(float* x, float* weight, long m, long d, float eps, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_add_rmsnorm(float* x, float* delta, float* weight, long m, long d, float eps, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_rope(float* x, long m, long nHeads, long headDim, long rotDim, int* pos, float theta);

    [LibraryImport(Lib)]
    internal static partial int awq_rope_ext(float* x, long m, long nHeads, long headDim, long rotDim, int* pos, float theta, float* freqFactors);

    [LibraryImport(Lib)]
    internal static partial int awq_attention(float* q, float* kCache, float* vCache, long m, long nPast, long nCtx,
                                              long nHeads, long nKvHeads, long headDim, float* output);

    [LibraryImport(Lib)]
    internal static partial int awq_attention_ext(float* q, float* kCache, float* vCache, long m, long nPast, long nCtx,
                                                  long nHeads, long nKvHeads, long headDim, long window, float* output);

    [LibraryImport(Lib)]
    internal static partial int awq_silu_mul(float* gate, float* up, long n, float* output);

    [LibraryImport(Lib)]
    internal static partial int awq_softmax(float* x, long m, long n);
}
