using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>Bindings of the "WnA16 GEMM" section of awq_kernels.h.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)]
    internal static partial int awq_wna16_gemm(float* x, long m, long k, int* qweight, int bits, ushort* scales, byte* zeros,
                                               long n, long groupSize, float* y);
}
