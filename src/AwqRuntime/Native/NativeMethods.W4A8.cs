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

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_repack_preferred();

    [LibraryImport(Lib)]
    internal static partial long awq_w4a8_repacked_bytes(long n, long k);

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_repack(byte* qweight, long n, long k, byte* repacked, long repackedBytes);

    [LibraryImport(Lib)]
    internal static partial int awq_w4a8_gemm_f32_repacked(float* x, long m, long k, byte* qweight, ushort* scales,
                                                           byte* zeros, ushort* tileScales, byte* tileZeros,
                                                           byte* repacked, long repackedBytes, long n, long groupSize,
                                                           float* y);
}
