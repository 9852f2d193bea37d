namespace AwqRuntime.Native;

public static unsafe partial class Kernels
{
    /// <summary>CUDA devices this build can use (0 when the library was built without CUDA or none is present).</summary>
    public static int CudaDeviceCount
    {
        get
        {
            int n;
            NativeMethods.Check(NativeMethods.awq_cuda_device_count(&n), "awq_cuda_device_count");
            return n;
        }
    }

    /// <summary>
    /// <see cref="W4A16Gemm"/> on the CUDA device (operands copied in, y copied back). Throws
    /// NativeKernelException (Unsupported) when the build has no CUDA kernels or no device.
    /// </summary>
    public static void CudaW4A16Gemm(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
        ReadOnlySpan<byte> zeros, int n, int groupSize, Span<float> y)
    {
        const string fn = "awq_cuda_w4a16_gemm";
        RequireW4A16Lengths(x, m, k, qweight, scales, zeros, n, groupSize, y, fn);
        fixed (float* px = x, py = y)
        fixed (byte* pq = qweight, pz = zeros)
        fixed (Half* ps = scales)
            NativeMethods.Check(NativeMethods.awq_cuda_w4a16_gemm(px, m, k, pq, (ushort*)ps, pz, n, groupSize, py), fn);
    }
}
