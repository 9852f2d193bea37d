using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>Bindings of the "W4A8 GEMM" section of awq_kernels.h.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)]
    internal static partial int awq_quantize_act_q8(float* x, long m, long k, long groupSize, sbyte* xq, float* xScale,
                                                    int* xSum);

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_gemm(sbyte* xq, float* xScale, int* xSum, long m, long k, byte* qweight,
                                              ushort* scales, byte* zeros, long n, long groupSize, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_gemm_f32(float* x, long m, long k, byte* qweight, ushort* scales, byte* zeros,
                                                  long n, long groupSize, float* y);

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_tile_tables(ushort* scales, byte* zeros, long n, long k, long groupSize,
                                                     ushort* tileScales, byte* tileZeros);

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_gemm_f32_tiled(float* x, long m, long k, byte* qweight, ushort* scales,
                                                        byte* zeros, ushort* tileScales, byte* tileZeros, long n,
                                                        long groupSize, float* y);
}
