using AwqRuntime.Native;

namespace AwqRuntime.Tests.Native;

public class NativeCoreTests
{
    [Fact]
    public void Library_loads_and_reports_version_and_simd_path()
    {
        Assert.Equal("0.1.0", Kernels.Version);
        Assert.Contains(Kernels.SimdPath, new[] { "scalar", "avx2", "avx512" });
        var f = Kernels.Features;
        Assert.True(f.HasFlag(NativeFeatures.Avx2Compiled));
        if (f.HasFlag(NativeFeatures.Avx512Detected)) Assert.True(f.HasFlag(NativeFeatures.Avx2Detected));
    }

    [Fact]
    public void Bad_thread_count_throws_with_function_and_argument_named()
    {
        var ex = Assert.Throws<NativeKernelException>(() => Kernels.Threads = 0);
        Assert.Equal(NativeStatus.InvalidSize, ex.Status);
        Assert.Contains("awq_set_num_threads", ex.Message);
        Assert.Contains("n_threads", ex.Message);
    }
}

public class NativeCudaTests
{
    [Fact]
    public void Cuda_entry_point_reports_unsupported_or_matches_the_cpu_kernel()
    {
        var x = new float[] { 1, 2, 3, 4 };
        var q = new byte[] { 0x21, 0x43, 0x65, 0x87 };
        var s = new[] { (Half)1, (Half)1 };
        var z = new byte[] { 8, 8 };
        var cpu = new float[2];
        Kernels.W4A16Gemm(x, 1, 4, q, s, z, 2, 4, cpu);
        var gpu = new float[2];
        if (Kernels.CudaDeviceCount == 0 || !Kernels.Features.HasFlag(NativeFeatures.CudaBuilt))
        {
            var ex = Assert.Throws<NativeKernelException>(() => Kernels.CudaW4A16Gemm(x, 1, 4, q, s, z, 2, 4, gpu));
            Assert.Equal(NativeStatus.Unsupported, ex.Status);
            Assert.Contains("awq_cuda_w4a16_gemm", ex.Message);
            return;
        }
        Kernels.CudaW4A16Gemm(x, 1, 4, q, s, z, 2, 4, gpu);
        Assert.Equal(cpu, gpu);
    }
}

public unsafe class NativeCudaArgumentTests
{
    [Fact]
    public void Bad_arguments_to_the_cuda_entry_points_are_named()
    {
        Assert.Equal((int)NativeStatus.NullPointer, NativeMethods.awq_cuda_device_count(null));
        var ex = Assert.Throws<NativeKernelException>(() => NativeMethods.Check(NativeMethods.awq_cuda_device_count(null), "awq_cuda_device_count"));
        Assert.Contains("'count'", ex.Message);
        var x = new float[4];
        var y = new float[2];
        var q = new byte[4];
        var z = new byte[2];
        var s = new ushort[2];
        fixed (float* px = x, py = y)
        fixed (byte* pq = q, pz = z)
        fixed (ushort* ps = s)
        {
            Assert.Equal((int)NativeStatus.NullPointer, NativeMethods.awq_cuda_w4a16_gemm(null, 1, 4, pq, ps, pz, 2, 4, py));
            Assert.Contains("'x'", Kernels.LastError);
            Assert.Equal((int)NativeStatus.InvalidGroupSize, NativeMethods.awq_cuda_w4a16_gemm(px, 1, 4, pq, ps, pz, 2, 0, py));
            Assert.Contains("'group_size'", Kernels.LastError);
            Assert.Equal((int)NativeStatus.InvalidSize, NativeMethods.awq_cuda_w4a16_gemm(px, 1, -4, pq, ps, pz, 2, 4, py));
            Assert.Contains("'K'", Kernels.LastError);
        }
    }
}
