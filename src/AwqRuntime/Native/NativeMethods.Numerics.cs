using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>awq_kernels.h sections "Number formats", "Quantizers" and "INT4 packing".</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int awq_fp32_to_fp16(float* src, ushort* dst, long n);
    [LibraryImport(Lib)] internal static partial int awq_fp16_to_fp32(ushort* src, float* dst, long n);
    [LibraryImport(Lib)] internal static partial int awq_fp32_to_bf16(float* src, ushort* dst, long n);
    [LibraryImport(Lib)] internal static partial int awq_bf16_to_fp32(ushort* src, float* dst, long n);

    [LibraryImport(Lib)]
    internal static partial int awq_quantize(float* x, long rows, long cols, long groupSize, int bits, int scheme,
                                             int* q, float* scales, int* zeros);

    [LibraryImport(Lib)]
    internal static partial int awq_dequantize(int* q, float* scales, int* zeros, long rows, long cols, long groupSize,
                                               float* output);

    [LibraryImport(Lib)] internal static partial int awq_quant_error(float* a, float* b, long n, double* mse, double* maxAbs);

    [LibraryImport(Lib)] internal static partial int awq_pack_int4(int* q, long rows, long cols, int order, int* packed);
    [LibraryImport(Lib)] internal static partial int awq_unpack_int4(int* packed, long rows, long cols, int order, int* q);
}
