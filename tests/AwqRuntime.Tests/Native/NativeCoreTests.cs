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
