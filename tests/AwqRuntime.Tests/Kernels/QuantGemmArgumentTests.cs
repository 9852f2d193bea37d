using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.QuantGemm;

/// <summary>
/// Every argument check of the quantized GEMMs: through NativeMethods (bad pointers and sizes
/// reach the C code as given) the named status and a message naming function and argument; through
/// Kernels a NativeKernelException carrying the same, or an ArgumentException for a short span.
/// </summary>
public unsafe class QuantGemmArgumentTests
{
    private const string W4 = "awq_w4a16_gemm", I8 = "awq_int8_gemm", I8F = "awq_int8_gemm_f32";

    private static void AssertStatus(int status, NativeStatus expected, string function, string argument)
    {
        Assert.Equal(expected, (NativeStatus)status);
        var message = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeMethods.awq_last_error()) ?? "";
        Assert.StartsWith(function + ": ", message);
        Assert.Contains($"'{argument}'", message);
    }

    private static void AssertThrows(Action call, NativeStatus expected, string function, string argument)
    {
        var ex = Assert.Throws<NativeKernelException>(call);
        Assert.Equal(expected, ex.Status);
        Assert.Equal(function, ex.Function);
        Assert.StartsWith(function + ": ", ex.Message);
        Assert.Contains($"'{argument}'", ex.Message);
    }

    // ---- W4A16 -----------------------------------------------------------------------------------

    [Fact]
    public void W4A16_native_rejects_each_bad_argument()
    {
        float[] x = new float[8], y = new float[4];
        byte[] q = new byte[16], z = new byte[4];
        ushort[] s = { 0x3c00, 0x3c00, 0x3c00, 0x3c00 };
        fixed (float* px = x, py = y)
        fixed (byte* pq = q, pz = z)
        fixed (ushort* ps = s)
        {
            Assert.Equal(0, NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, pz, 4, 8, py));
            AssertStatus(NativeMethods.awq_w4a16_gemm(null, 1, 8, pq, ps, pz, 4, 8, py), NativeStatus.NullPointer, W4, "x");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, null, ps, pz, 4, 8, py), NativeStatus.NullPointer, W4, "qweight");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, null, pz, 4, 8, py), NativeStatus.NullPointer, W4, "scales");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, null, 4, 8, py), NativeStatus.NullPointer, W4, "zeros");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, pz, 4, 8, null), NativeStatus.NullPointer, W4, "y");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 0, 8, pq, ps, pz, 4, 8, py), NativeStatus.InvalidSize, W4, "M");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, -8, pq, ps, pz, 4, 8, py), NativeStatus.InvalidSize, W4, "K");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, pz, 0, 8, py), NativeStatus.InvalidSize, W4, "N");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, pz, 4, 0, py), NativeStatus.InvalidGroupSize, W4, "group_size");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, pz, 4, -32, py), NativeStatus.InvalidGroupSize, W4, "group_size");
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, long.MaxValue / 2, 8, pq, ps, pz, 4, 8, py), NativeStatus.Overflow, W4, "x");
            z[2] = 16;
            AssertStatus(NativeMethods.awq_w4a16_gemm(px, 1, 8, pq, ps, pz, 4, 8, py), NativeStatus.InvalidArgument, W4, "zeros");
        }
    }

    [Fact]
    public void W4A16_wrapper_throws_naming_function_and_argument()
    {
        float[] x = new float[8], y = new float[4];
        byte[] q = new byte[16], z = new byte[4];
        Half[] s = { Half.One, Half.One, Half.One, Half.One };
        NativeKernels.W4A16Gemm(x, 1, 8, q, s, z, 4, 8, y);
        AssertThrows(() => NativeKernels.W4A16Gemm(x, 0, 8, q, s, z, 4, 8, y), NativeStatus.InvalidSize, W4, "M");
        AssertThrows(() => NativeKernels.W4A16Gemm(x, 1, -1, q, s, z, 4, 8, y), NativeStatus.InvalidSize, W4, "K");
        AssertThrows(() => NativeKernels.W4A16Gemm(x, 1, 8, q, s, z, 0, 8, y), NativeStatus.InvalidSize, W4, "N");
        AssertThrows(() => NativeKernels.W4A16Gemm(x, 1, 8, q, s, z, 4, 0, y), NativeStatus.InvalidGroupSize, W4, "group_size");
        z[3] = 200;
        AssertThrows(() => NativeKernels.W4A16Gemm(x, 1, 8, q, s, z, 4, 8, y), NativeStatus.InvalidArgument, W4, "zeros");
        z[3] = 0;
        var shortSpan = Assert.Throws<ArgumentException>(() => NativeKernels.W4A16Gemm(x, 2, 8, q, s, z, 4, 8, y));
        Assert.Contains(W4, shortSpan.Message);
        Assert.Equal("x", shortSpan.ParamName);
        shortSpan = Assert.Throws<ArgumentException>(() => NativeKernels.W4A16Gemm(x, 1, 8, q, s, z, 4, 4, y));
        Assert.Equal("scales", shortSpan.ParamName);
    }

    // ---- INT8 ------------------------------------------------------------------------------------

    [Fact]
    public void Int8_native_rejects_each_bad_argument()
    {
        byte[] x = new byte[8];
        sbyte[] w = new sbyte[16];
        int[] xz = { 0 }, wz = { 0, 0 }, acc = new int[2];
        float[] xs = { 1 }, ws = { 1, 1 }, y = new float[2];
        fixed (byte* px = x)
        fixed (sbyte* pw = w)
        fixed (int* pxz = xz, pwz = wz, pa = acc)
        fixed (float* pxs = xs, pws = ws, py = y)
        {
            Assert.Equal(0, NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 2, pa));
            Assert.Equal(0, NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, null, 2, pa)); // symmetric weights
            AssertStatus(NativeMethods.awq_int8_gemm(null, pxz, 1, 8, pw, pwz, 2, pa), NativeStatus.NullPointer, I8, "xq");
            AssertStatus(NativeMethods.awq_int8_gemm(px, null, 1, 8, pw, pwz, 2, pa), NativeStatus.NullPointer, I8, "x_zero");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, null, pwz, 2, pa), NativeStatus.NullPointer, I8, "wq");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 2, null), NativeStatus.NullPointer, I8, "acc");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, -1, 8, pw, pwz, 2, pa), NativeStatus.InvalidSize, I8, "M");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 0, pw, pwz, 2, pa), NativeStatus.InvalidSize, I8, "K");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 0, pa), NativeStatus.InvalidSize, I8, "N");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 33026, pw, pwz, 2, pa), NativeStatus.Overflow, I8, "K");
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, long.MaxValue / 4, 8, pw, pwz, 2, pa), NativeStatus.Overflow, I8, "xq");
            xz[0] = 256;
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 2, pa), NativeStatus.InvalidArgument, I8, "x_zero");
            xz[0] = -1;
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 2, pa), NativeStatus.InvalidArgument, I8, "x_zero");
            xz[0] = 0;
            wz[1] = 128;
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 2, pa), NativeStatus.InvalidArgument, I8, "w_zero");
            wz[1] = -129;
            AssertStatus(NativeMethods.awq_int8_gemm(px, pxz, 1, 8, pw, pwz, 2, pa), NativeStatus.InvalidArgument, I8, "w_zero");
            wz[1] = 0;

            Assert.Equal(0, NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, pw, null, pws, 2, py));
            AssertStatus(NativeMethods.awq_int8_gemm_f32(null, pxz, pxs, 1, 8, pw, pwz, pws, 2, py), NativeStatus.NullPointer, I8F, "xq");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, null, pxs, 1, 8, pw, pwz, pws, 2, py), NativeStatus.NullPointer, I8F, "x_zero");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, null, 1, 8, pw, pwz, pws, 2, py), NativeStatus.NullPointer, I8F, "x_scale");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, null, pwz, pws, 2, py), NativeStatus.NullPointer, I8F, "wq");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, pw, pwz, null, 2, py), NativeStatus.NullPointer, I8F, "w_scale");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, pw, pwz, pws, 2, null), NativeStatus.NullPointer, I8F, "y");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 0, 8, pw, pwz, pws, 2, py), NativeStatus.InvalidSize, I8F, "M");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, -8, pw, pwz, pws, 2, py), NativeStatus.InvalidSize, I8F, "K");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, pw, pwz, pws, -2, py), NativeStatus.InvalidSize, I8F, "N");
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 40000, pw, pwz, pws, 2, py), NativeStatus.Overflow, I8F, "K");
            xz[0] = 300;
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, pw, pwz, pws, 2, py), NativeStatus.InvalidArgument, I8F, "x_zero");
            xz[0] = 0;
            wz[0] = 1000;
            AssertStatus(NativeMethods.awq_int8_gemm_f32(px, pxz, pxs, 1, 8, pw, pwz, pws, 2, py), NativeStatus.InvalidArgument, I8F, "w_zero");
        }
    }

    [Fact]
    public void Int8_wrappers_throw_naming_function_and_argument()
    {
        byte[] x = new byte[8];
        sbyte[] w = new sbyte[16];
        int[] xz = { 0 }, wz = { 0, 0 }, acc = new int[2];
        float[] xs = { 1 }, ws = { 1, 1 }, y = new float[2];
        NativeKernels.Int8Gemm(x, xz, 1, 8, w, wz, 2, acc);
        NativeKernels.Int8GemmF32(x, xz, xs, 1, 8, w, default, ws, 2, y);
        AssertThrows(() => NativeKernels.Int8Gemm(x, xz, 0, 8, w, wz, 2, acc), NativeStatus.InvalidSize, I8, "M");
        AssertThrows(() => NativeKernels.Int8Gemm(x, xz, 1, 0, w, wz, 2, acc), NativeStatus.InvalidSize, I8, "K");
        AssertThrows(() => NativeKernels.Int8Gemm(x, xz, 1, 8, w, wz, -3, acc), NativeStatus.InvalidSize, I8, "N");
        AssertThrows(() => NativeKernels.Int8GemmF32(x, xz, xs, 0, 8, w, wz, ws, 2, y), NativeStatus.InvalidSize, I8F, "M");
        AssertThrows(() => NativeKernels.Int8Gemm(x, new[] { 256 }, 1, 8, w, wz, 2, acc), NativeStatus.InvalidArgument, I8, "x_zero");
        AssertThrows(() => NativeKernels.Int8Gemm(x, xz, 1, 8, w, new[] { 0, -129 }, 2, acc), NativeStatus.InvalidArgument, I8, "w_zero");
        AssertThrows(() => NativeKernels.Int8GemmF32(x, new[] { -5 }, xs, 1, 8, w, wz, ws, 2, y), NativeStatus.InvalidArgument, I8F, "x_zero");
        AssertThrows(() => NativeKernels.Int8GemmF32(x, xz, xs, 1, 8, w, new[] { 128, 0 }, ws, 2, y), NativeStatus.InvalidArgument, I8F, "w_zero");

        const int bigK = 33026; // K·255·255 ≥ 2³¹
        var bx = new byte[bigK];
        var bw = new sbyte[bigK];
        AssertThrows(() => NativeKernels.Int8Gemm(bx, xz, 1, bigK, bw, default, 1, acc), NativeStatus.Overflow, I8, "K");
        AssertThrows(() => NativeKernels.Int8GemmF32(bx, xz, xs, 1, bigK, bw, default, ws, 1, y), NativeStatus.Overflow, I8F, "K");

        var shortSpan = Assert.Throws<ArgumentException>(() => NativeKernels.Int8Gemm(x, xz, 1, 8, w, wz, 3, acc));
        Assert.Equal("wq", shortSpan.ParamName);
        shortSpan = Assert.Throws<ArgumentException>(() => NativeKernels.Int8Gemm(x, xz, 1, 8, w, new[] { 0 }, 2, acc));
        Assert.Equal("w_zero", shortSpan.ParamName);
        shortSpan = Assert.Throws<ArgumentException>(() => NativeKernels.Int8GemmF32(x, xz, xs, 1, 8, w, wz, new float[1], 2, y));
        Assert.Equal("w_scale", shortSpan.ParamName);
    }
}
