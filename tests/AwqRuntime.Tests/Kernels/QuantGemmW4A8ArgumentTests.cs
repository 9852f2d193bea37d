using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.QuantGemm;

/// <summary>
/// Every argument check of the W4A8 kernels: through NativeMethods the named status and a message
/// naming function and argument; through Kernels a NativeKernelException carrying the same, or an
/// ArgumentException for a short span.
/// </summary>
public unsafe class QuantGemmW4A8ArgumentTests
{
    private const string Q = "awq_quantize_act_q8", W = "awq_w4a8_gemm", F = "awq_w4a8_gemm_f32";

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

    [Fact]
    public void Native_quantizer_rejects_each_bad_argument()
    {
        float[] x = new float[64], s = new float[2];
        sbyte[] q = new sbyte[64];
        int[] z = new int[2];
        fixed (float* px = x, ps = s)
        fixed (sbyte* pq = q)
        fixed (int* pz = z)
        {
            Assert.Equal(0, NativeMethods.awq_quantize_act_q8(px, 1, 64, 32, pq, ps, pz));
            AssertStatus(NativeMethods.awq_quantize_act_q8(null, 1, 64, 32, pq, ps, pz), NativeStatus.NullPointer, Q, "x");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, 1, 64, 32, null, ps, pz), NativeStatus.NullPointer, Q, "xq");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, 1, 64, 32, pq, null, pz), NativeStatus.NullPointer, Q, "x_scale");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, 1, 64, 32, pq, ps, null), NativeStatus.NullPointer, Q, "x_sum");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, 0, 64, 32, pq, ps, pz), NativeStatus.InvalidSize, Q, "M");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, 1, -1, 32, pq, ps, pz), NativeStatus.InvalidSize, Q, "K");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, 1, 64, 0, pq, ps, pz), NativeStatus.InvalidGroupSize, Q, "group_size");
            AssertStatus(NativeMethods.awq_quantize_act_q8(px, long.MaxValue / 2, 64, 32, pq, ps, pz), NativeStatus.Overflow, Q, "x");
            foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                x[37] = bad;
                AssertStatus(NativeMethods.awq_quantize_act_q8(px, 1, 64, 32, pq, ps, pz), NativeStatus.InvalidArgument, Q, "x");
                Assert.Contains("row 0, column 37", NativeKernels.LastError);
            }
        }
    }

    [Fact]
    public void Native_gemms_reject_each_bad_argument()
    {
        float[] x = new float[64], xs = new float[2], y = new float[4];
        sbyte[] xq = new sbyte[64];
        int[] xsum = new int[2];
        byte[] qw = new byte[4 * 32], z = new byte[8];
        ushort[] s = { 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00, 0x3c00 };
        fixed (float* px = x, pxs = xs, py = y)
        fixed (sbyte* pq = xq)
        fixed (int* pxz = xsum)
        fixed (byte* pw = qw, pz = z)
        fixed (ushort* ps = s)
        {
            Assert.Equal(0, NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, py));
            AssertStatus(NativeMethods.awq_w4a8_gemm(null, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.NullPointer, W, "xq");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, null, pxz, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.NullPointer, W, "x_scale");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, null, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.NullPointer, W, "x_sum");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, null, ps, pz, 4, 32, py), NativeStatus.NullPointer, W, "qweight");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, null, pz, 4, 32, py), NativeStatus.NullPointer, W, "scales");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, null, 4, 32, py), NativeStatus.NullPointer, W, "zeros");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, null), NativeStatus.NullPointer, W, "y");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 0, 64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidSize, W, "M");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, -64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidSize, W, "K");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 0, 32, py), NativeStatus.InvalidSize, W, "N");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, -32, py), NativeStatus.InvalidGroupSize, W, "group_size");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, long.MaxValue / 2, 64, pw, ps, pz, 4, 32, py), NativeStatus.Overflow, W, "xq");
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 600000, pw, ps, pz, 1, 600000, py), NativeStatus.Overflow, W, "group_size");
            z[5] = 16;
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidArgument, W, "zeros");
            z[5] = 0;
            xs[1] = float.NaN;
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidArgument, W, "x_scale");
            xs[1] = 0;
            xq[40] = 3;
            AssertStatus(NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidArgument, W, "x_sum");
            xsum[1] = 3;
            Assert.Equal(0, NativeMethods.awq_w4a8_gemm(pq, pxs, pxz, 1, 64, pw, ps, pz, 4, 32, py));

            Assert.Equal(0, NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, pw, ps, pz, 4, 32, py));
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(null, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.NullPointer, F, "x");
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, null, ps, pz, 4, 32, py), NativeStatus.NullPointer, F, "qweight");
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, pw, null, pz, 4, 32, py), NativeStatus.NullPointer, F, "scales");
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, pw, ps, null, 4, 32, py), NativeStatus.NullPointer, F, "zeros");
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, pw, ps, pz, 4, 32, null), NativeStatus.NullPointer, F, "y");
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, -1, 64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidSize, F, "M");
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, pw, ps, pz, 4, 0, py), NativeStatus.InvalidGroupSize, F, "group_size");
            x[3] = float.PositiveInfinity;
            AssertStatus(NativeMethods.awq_w4a8_gemm_f32(px, 1, 64, pw, ps, pz, 4, 32, py), NativeStatus.InvalidArgument, F, "x");
        }
    }

    [Fact]
    public void Wrappers_throw_naming_function_and_argument()
    {
        float[] x = new float[64], xs = new float[2], y = new float[4];
        sbyte[] xq = new sbyte[64];
        int[] xsum = new int[2];
        byte[] qw = new byte[4 * 32], z = new byte[8];
        var s = Enumerable.Repeat(Half.One, 8).ToArray();
        var scratch = new W4A8Scratch();

        NativeKernels.QuantizeActQ8(x, 1, 64, 32, xq, xs, xsum);
        NativeKernels.W4A8Gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y);
        NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 32, y, scratch);
        NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, z, 4, 32, y);

        AssertThrows(() => NativeKernels.QuantizeActQ8(x, 0, 64, 32, xq, xs, xsum), NativeStatus.InvalidSize, Q, "M");
        AssertThrows(() => NativeKernels.QuantizeActQ8(x, 1, 64, -1, xq, xs, xsum), NativeStatus.InvalidGroupSize, Q, "group_size");
        AssertThrows(() => NativeKernels.W4A8Gemm(xq, xs, xsum, 1, 64, qw, s, z, 0, 32, y), NativeStatus.InvalidSize, W, "N");
        AssertThrows(() => scratch.Quantize(x, 1, 0, 32), NativeStatus.InvalidSize, Q, "K");
        Assert.Equal(0, scratch.M); // a failed Quantize leaves nothing to multiply
        Assert.Throws<InvalidOperationException>(() => NativeKernels.W4A8Gemm(scratch, qw, s, z, 4, y));
        AssertThrows(() => NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 0, y, scratch), NativeStatus.InvalidGroupSize, Q, "group_size");
        z[7] = 200;
        AssertThrows(() => NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, z, 4, 32, y), NativeStatus.InvalidArgument, F, "zeros");
        AssertThrows(() => NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 32, y, scratch), NativeStatus.InvalidArgument, W, "zeros");
        z[7] = 0;
        xq[3] = 1; // x_sum no longer matches xq
        AssertThrows(() => NativeKernels.W4A8Gemm(xq, xs, xsum, 1, 64, qw, s, z, 4, 32, y), NativeStatus.InvalidArgument, W, "x_sum");
        x[9] = float.NaN;
        AssertThrows(() => NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, z, 4, 32, y), NativeStatus.InvalidArgument, F, "x");
        AssertThrows(() => NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 32, y, scratch), NativeStatus.InvalidArgument, Q, "x");
        x[9] = 0;

        // short spans: the native side cannot see lengths
        var e = Assert.Throws<ArgumentException>(() => NativeKernels.QuantizeActQ8(x, 2, 64, 32, xq, xs, xsum));
        Assert.Equal("x", e.ParamName);
        Assert.Contains(Q, e.Message);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.QuantizeActQ8(x, 1, 64, 16, xq, xs, xsum));
        Assert.Equal("x_scale", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8Gemm(xq, xs, xsum, 1, 64, qw, s, z, 5, 32, y));
        Assert.Equal("qweight", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8Gemm(xq, xs, new int[1], 1, 64, qw, s, z, 4, 32, y));
        Assert.Equal("x_sum", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 16, y, scratch));
        Assert.Equal("scales", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 32, new float[3], scratch));
        Assert.Equal("y", e.ParamName);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, new byte[7], 4, 32, y));
        Assert.Equal("zeros", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => NativeKernels.W4A8Gemm(x, 1, 64, qw, s, z, 4, 32, y, null!));

        // prepared tables: made for other weights, or from short spans, or with a bad group size
        var tiles = NativeKernels.W4A8TileTables(s, z, 4, 64, 32);
        NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, z, tiles, 4, 32, y);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, z,
            NativeKernels.W4A8TileTables(s, z, 2, 64, 32), 4, 32, y));
        Assert.Contains("made for 2 x 64", e.Message);
        e = Assert.Throws<ArgumentException>(() => NativeKernels.W4A8TileTables(s, new byte[7], 4, 64, 32));
        Assert.Equal("zeros", e.ParamName);
        AssertThrows(() => NativeKernels.W4A8TileTables(s, z, 4, 64, 0), NativeStatus.InvalidGroupSize, "awq_w4a8_tile_tables", "group_size");
        Assert.Throws<ArgumentNullException>(() => NativeKernels.W4A8GemmF32(x, 1, 64, qw, s, z, null!, 4, 32, y));
    }
}
