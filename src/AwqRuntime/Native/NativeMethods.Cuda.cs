using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int awq_cuda_device_count(int* count);

    [LibraryImport(Lib)]
    internal static partial int awq_cuda_w4a16_gemm(float* x, long m, long k, byte* qweight, ushort* scales, byte* zeros, long n,
        long groupSize, float* y);
}
