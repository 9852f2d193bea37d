using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>Bindings of the "W4A16 GEMM" and "INT8 x INT8 -> INT32 GEMM" sections of awq_kernels.h.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)]
    internal static partial int awq_w4a16_gemm(float* x, long m, long k, byte* qweight, ushort* scales, byte* zeros,
                                               long n, long groupSize, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_int8_gemm(byte* xq, int* xZero, long m, long k, sbyte* wq, int* wZero, long n,
                                              int* acc);

    [LibraryImport(Lib)]
    internal static partial int awq_int8_gemm_f32(byte* xq, int* xZero, float* xScale, long m, long k, sbyte* wq,
                                                  int* wZero, float* wScale, long n, float* y);
}
