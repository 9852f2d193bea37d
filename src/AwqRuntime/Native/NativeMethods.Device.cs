using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>awq_dview: bytes at an offset of a buffer.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct DView(IntPtr buffer, long offset)
{
    public readonly IntPtr Buffer = buffer;
    public readonly long Offset = offset;
}

/// <summary>awq_device_props.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct DeviceProps
{
    public fixed byte Name[256];
    public long TotalBytes;
    public long FreeBytes;
    public int CcMajor;
    public int CcMinor;
    public int Multiprocessors;
    public int Reserved;
    public long PeakBandwidth;
}

/// <summary>The "Devices" section of awq_kernels.h: contexts, buffers, kernels over views.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int awq_device_count(int kind, int* count);
    [LibraryImport(Lib)] internal static partial int awq_device_info(int kind, int ordinal, DeviceProps* props);
    [LibraryImport(Lib)] internal static partial int awq_context_create(int kind, int ordinal, IntPtr* ctx);
    [LibraryImport(Lib)] internal static partial int awq_context_free(IntPtr ctx);
    [LibraryImport(Lib)] internal static partial int awq_context_synchronize(IntPtr ctx);
    [LibraryImport(Lib)] internal static partial int awq_buffer_create(IntPtr ctx, long bytes, IntPtr* buffer);
    [LibraryImport(Lib)] internal static partial int awq_buffer_free(IntPtr buffer);
    [LibraryImport(Lib)] internal static partial int awq_buffer_upload(IntPtr ctx, DView dst, void* src, long bytes);
    [LibraryImport(Lib)] internal static partial int awq_buffer_download(IntPtr ctx, DView src, void* dst, long bytes);
    [LibraryImport(Lib)] internal static partial int awq_buffer_copy(IntPtr ctx, DView src, DView dst, long bytes);
    [LibraryImport(Lib)] internal static partial int awq_dev_f32_gemm(IntPtr ctx, DView x, long m, long k, DView w, long n, DView y);
    [LibraryImport(Lib)] internal static partial int awq_dev_f16_gemm(IntPtr ctx, DView x, long m, long k, DView w, long n, DView y);

    [LibraryImport(Lib)]
    internal static partial int awq_dev_w4a16_gemm(IntPtr ctx, DView x, long m, long k, DView qweight, DView scales, DView zeros, long n,
        long groupSize, DView y);

    [LibraryImport(Lib)] internal static partial int awq_dev_add_bias(IntPtr ctx, DView y, long m, long n, DView bias);
    [LibraryImport(Lib)] internal static partial int awq_dev_rmsnorm(IntPtr ctx, DView x, DView weight, long m, long d, float eps, DView y);

    [LibraryImport(Lib)]
    internal static partial int awq_dev_add_rmsnorm(IntPtr ctx, DView x, DView delta, DView weight, long m, long d, float eps, DView y);

    [LibraryImport(Lib)]
    internal static partial int awq_dev_rope(IntPtr ctx, DView x, long m, long heads, long headDim, long rotDim, int* pos, float theta,
        float* freqFactors);

    [LibraryImport(Lib)]
    internal static partial int awq_dev_attention(IntPtr ctx, DView q, DView kCache, DView vCache, long m, long nPast, long nCtx, long heads,
        long kvHeads, long headDim, long window, DView output);

    [LibraryImport(Lib)] internal static partial int awq_dev_silu_mul(IntPtr ctx, DView gate, DView up, long n, DView output);
    [LibraryImport(Lib)] internal static partial int awq_dev_add(IntPtr ctx, DView x, DView y, long n);

    [LibraryImport(Lib)]
    internal static partial int awq_dev_quantize_act_u8(IntPtr ctx, DView x, long m, long k, float actScale, int actZero, DView xq, DView xScale,
        DView xZero);

    [LibraryImport(Lib)]
    internal static partial int awq_dev_int8_gemm_f32(IntPtr ctx, DView xq, DView xZero, DView xScale, long m, long k, DView wq, DView wScale, long n,
        DView y);

    [LibraryImport(Lib)] internal static partial int awq_dev_softmax(IntPtr ctx, DView x, long m, long n);
    [LibraryImport(Lib)] internal static partial int awq_dev_convert(IntPtr ctx, DView src, int srcType, DView dst, int dstType, long n);
}
