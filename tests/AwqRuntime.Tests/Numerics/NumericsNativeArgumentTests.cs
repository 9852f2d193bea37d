using System.Runtime.InteropServices;
using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Numerics;

/// <summary>
/// Every native entry point of the numerics family with bad arguments: raw calls through
/// NativeMethods return the named status and set a message naming function and argument; the
/// Kernels wrappers throw <see cref="NativeKernelException"/> carrying both. Nothing crashes.
/// </summary>
public unsafe class NumericsNativeArgumentTests
{
    private static string LastError => Marshal.PtrToStringUTF8(NativeMethods.awq_last_error()) ?? "";

    private static void AssertRaw(int status, NativeStatus expected, string function, string argument)
    {
        Assert.Equal(expected, (NativeStatus)status);
        Assert.Contains(function, LastError);
        Assert.Contains($"'{argument}'", LastError);
    }

    private static void AssertThrows(Action call, NativeStatus expected, string function, string argument)
    {
        var ex = Assert.Throws<NativeKernelException>(call);
        Assert.Equal(expected, ex.Status);
        Assert.Equal(function, ex.Function);
        Assert.Contains(function, ex.Message);
        Assert.Contains($"'{argument}'", ex.Message);
    }

    private static void CheckNarrowing(delegate*<float*, ushort*, long, int> native, Action emptyWrapper, string fn)
    {
        float f = 0;
        ushort h = 0;
        AssertRaw(native(null, &h, 1), NativeStatus.NullPointer, fn, "src");
        AssertRaw(native(&f, null, 1), NativeStatus.NullPointer, fn, "dst");
        AssertRaw(native(&f, &h, 0), NativeStatus.InvalidSize, fn, "n");
        AssertRaw(native(&f, &h, -1), NativeStatus.InvalidSize, fn, "n");
        AssertThrows(emptyWrapper, NativeStatus.InvalidSize, fn, "n");
    }

    private static void CheckWidening(delegate*<ushort*, float*, long, int> native, Action emptyWrapper, string fn)
    {
        float f = 0;
        ushort h = 0;
        AssertRaw(native(null, &f, 1), NativeStatus.NullPointer, fn, "src");
        AssertRaw(native(&h, null, 1), NativeStatus.NullPointer, fn, "dst");
        AssertRaw(native(&h, &f, 0), NativeStatus.InvalidSize, fn, "n");
        AssertRaw(native(&h, &f, long.MinValue), NativeStatus.InvalidSize, fn, "n");
        AssertThrows(emptyWrapper, NativeStatus.InvalidSize, fn, "n");
    }

    [Fact]
    public void Fp32_to_fp16_rejects_null_pointers_and_non_positive_sizes() =>
        CheckNarrowing(&NativeMethods.awq_fp32_to_fp16, () => Kernels.Fp32ToFp16([], []), "awq_fp32_to_fp16");

    [Fact]
    public void Fp32_to_bf16_rejects_null_pointers_and_non_positive_sizes() =>
        CheckNarrowing(&NativeMethods.awq_fp32_to_bf16, () => Kernels.Fp32ToBf16([], []), "awq_fp32_to_bf16");

    [Fact]
    public void Fp16_to_fp32_rejects_null_pointers_and_non_positive_sizes() =>
        CheckWidening(&NativeMethods.awq_fp16_to_fp32, () => Kernels.Fp16ToFp32([], []), "awq_fp16_to_fp32");

    [Fact]
    public void Bf16_to_fp32_rejects_null_pointers_and_non_positive_sizes() =>
        CheckWidening(&NativeMethods.awq_bf16_to_fp32, () => Kernels.Bf16ToFp32([], []), "awq_bf16_to_fp32");

    [Fact]
    public void Quantize_rejects_every_bad_argument()
    {
        const string fn = "awq_quantize";
        var x = new float[8];
        var q = new int[8];
        var s = new float[8];
        var z = new int[8];
        fixed (float* px = x)
        fixed (int* pq = q)
        fixed (float* ps = s)
        fixed (int* pz = z)
        {
            AssertRaw(NativeMethods.awq_quantize(null, 2, 4, 2, 4, 0, pq, ps, pz), NativeStatus.NullPointer, fn, "x");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 2, 4, 0, null, ps, pz), NativeStatus.NullPointer, fn, "q");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 2, 4, 0, pq, null, pz), NativeStatus.NullPointer, fn, "scales");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 2, 4, 0, pq, ps, null), NativeStatus.NullPointer, fn, "zeros");
            AssertRaw(NativeMethods.awq_quantize(px, 0, 4, 2, 4, 0, pq, ps, pz), NativeStatus.InvalidSize, fn, "rows");
            AssertRaw(NativeMethods.awq_quantize(px, 2, -1, 2, 4, 0, pq, ps, pz), NativeStatus.InvalidSize, fn, "cols");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 0, 4, 0, pq, ps, pz), NativeStatus.InvalidGroupSize, fn, "group_size");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 2, 1, 0, pq, ps, pz), NativeStatus.InvalidBits, fn, "bits");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 2, 9, 0, pq, ps, pz), NativeStatus.InvalidBits, fn, "bits");
            AssertRaw(NativeMethods.awq_quantize(px, 2, 4, 2, 4, 3, pq, ps, pz), NativeStatus.InvalidArgument, fn, "scheme");
            AssertRaw(NativeMethods.awq_quantize(px, long.MaxValue / 2, 4, 2, 4, 0, pq, ps, pz), NativeStatus.Overflow, fn, "x");
        }
        AssertThrows(() => Kernels.Quantize(x, 0, 4, 2, 4, QuantScheme.Awq, q, s, z), NativeStatus.InvalidSize, fn, "rows");
        AssertThrows(() => Kernels.Quantize(x, 2, 0, 2, 4, QuantScheme.Awq, q, s, z), NativeStatus.InvalidSize, fn, "cols");
        AssertThrows(() => Kernels.Quantize(x, 2, 4, 0, 4, QuantScheme.Awq, q, s, z), NativeStatus.InvalidGroupSize, fn, "group_size");
        AssertThrows(() => Kernels.Quantize(x, 2, 4, -8, 4, QuantScheme.Awq, q, s, z), NativeStatus.InvalidGroupSize, fn, "group_size");
        AssertThrows(() => Kernels.Quantize(x, 2, 4, 2, 1, QuantScheme.Awq, q, s, z), NativeStatus.InvalidBits, fn, "bits");
        AssertThrows(() => Kernels.Quantize(x, 2, 4, 2, 9, QuantScheme.Awq, q, s, z), NativeStatus.InvalidBits, fn, "bits");
        AssertThrows(() => Kernels.Quantize(x, 2, 4, 2, 4, (QuantScheme)5, q, s, z), NativeStatus.InvalidArgument, fn, "scheme");
        // span lengths are the managed side's to check
        var ex = Assert.Throws<ArgumentException>(() => Kernels.Quantize(x, 3, 4, 2, 4, QuantScheme.Awq, q, s, z));
        Assert.Contains("awq_quantize: argument 'x'", ex.Message);
    }

    [Fact]
    public void Dequantize_rejects_every_bad_argument()
    {
        const string fn = "awq_dequantize";
        var q = new int[8];
        var s = new float[8];
        var z = new int[8];
        var o = new float[8];
        fixed (int* pq = q)
        fixed (float* ps = s)
        fixed (int* pz = z)
        fixed (float* po = o)
        {
            AssertRaw(NativeMethods.awq_dequantize(null, ps, pz, 2, 4, 2, po), NativeStatus.NullPointer, fn, "q");
            AssertRaw(NativeMethods.awq_dequantize(pq, null, pz, 2, 4, 2, po), NativeStatus.NullPointer, fn, "scales");
            AssertRaw(NativeMethods.awq_dequantize(pq, ps, null, 2, 4, 2, po), NativeStatus.NullPointer, fn, "zeros");
            AssertRaw(NativeMethods.awq_dequantize(pq, ps, pz, 2, 4, 2, null), NativeStatus.NullPointer, fn, "out");
            AssertRaw(NativeMethods.awq_dequantize(pq, ps, pz, -2, 4, 2, po), NativeStatus.InvalidSize, fn, "rows");
            AssertRaw(NativeMethods.awq_dequantize(pq, ps, pz, 2, 0, 2, po), NativeStatus.InvalidSize, fn, "cols");
            AssertRaw(NativeMethods.awq_dequantize(pq, ps, pz, 2, 4, 0, po), NativeStatus.InvalidGroupSize, fn, "group_size");
        }
        AssertThrows(() => Kernels.Dequantize(q, s, z, 0, 4, 2, o), NativeStatus.InvalidSize, fn, "rows");
        AssertThrows(() => Kernels.Dequantize(q, s, z, 2, -4, 2, o), NativeStatus.InvalidSize, fn, "cols");
        AssertThrows(() => Kernels.Dequantize(q, s, z, 2, 4, 0, o), NativeStatus.InvalidGroupSize, fn, "group_size");
        Assert.Throws<ArgumentException>(() => Kernels.Dequantize(q, s, z, 2, 4, 2, new float[7]));
    }

    [Fact]
    public void Quant_error_rejects_every_bad_argument()
    {
        const string fn = "awq_quant_error";
        var a = new float[4];
        double m1, m2;
        fixed (float* pa = a)
        {
            AssertRaw(NativeMethods.awq_quant_error(null, pa, 4, &m1, &m2), NativeStatus.NullPointer, fn, "a");
            AssertRaw(NativeMethods.awq_quant_error(pa, null, 4, &m1, &m2), NativeStatus.NullPointer, fn, "b");
            AssertRaw(NativeMethods.awq_quant_error(pa, pa, 4, null, &m2), NativeStatus.NullPointer, fn, "mse");
            AssertRaw(NativeMethods.awq_quant_error(pa, pa, 4, &m1, null), NativeStatus.NullPointer, fn, "max_abs");
            AssertRaw(NativeMethods.awq_quant_error(pa, pa, 0, &m1, &m2), NativeStatus.InvalidSize, fn, "n");
            AssertRaw(NativeMethods.awq_quant_error(pa, pa, -4, &m1, &m2), NativeStatus.InvalidSize, fn, "n");
        }
        AssertThrows(() => Kernels.QuantError(ReadOnlySpan<float>.Empty, ReadOnlySpan<float>.Empty), NativeStatus.InvalidSize, fn, "n");
        Assert.Throws<ArgumentException>(() => Kernels.QuantError(a, new float[3]));
    }

    [Theory]
    [InlineData("awq_pack_int4")]
    [InlineData("awq_unpack_int4")]
    public void Packing_rejects_every_bad_argument(string fn)
    {
        var q = new int[16];
        var p = new int[2];
        bool pack = fn == "awq_pack_int4";
        string src = pack ? "q" : "packed", dst = pack ? "packed" : "q";
        fixed (int* pq = q)
        fixed (int* pp = p)
        {
            int Call(int* from, int* to, long rows, long cols, int order) =>
                pack ? NativeMethods.awq_pack_int4(from, rows, cols, order, to) : NativeMethods.awq_unpack_int4(from, rows, cols, order, to);
            int* a = pack ? pq : pp, b = pack ? pp : pq;
            AssertRaw(Call(null, b, 2, 8, 0), NativeStatus.NullPointer, fn, src);
            AssertRaw(Call(a, null, 2, 8, 0), NativeStatus.NullPointer, fn, dst);
            AssertRaw(Call(a, b, 0, 8, 0), NativeStatus.InvalidSize, fn, "rows");
            AssertRaw(Call(a, b, 2, -8, 0), NativeStatus.InvalidSize, fn, "cols");
            AssertRaw(Call(a, b, 2, 8, 2), NativeStatus.InvalidArgument, fn, "order");
            AssertRaw(Call(a, b, 2, 8, -1), NativeStatus.InvalidArgument, fn, "order");
            AssertRaw(Call(a, b, long.MaxValue / 4, 8, 0), NativeStatus.Overflow, fn, "q");
        }
        Action<long, long, PackOrder> wrapper = pack
            ? (rows, cols, order) => Kernels.PackInt4(q, rows, cols, order, p)
            : (rows, cols, order) => Kernels.UnpackInt4(p, rows, cols, order, q);
        AssertThrows(() => wrapper(0, 8, PackOrder.Awq), NativeStatus.InvalidSize, fn, "rows");
        AssertThrows(() => wrapper(2, 0, PackOrder.Awq), NativeStatus.InvalidSize, fn, "cols");
        AssertThrows(() => wrapper(2, 8, (PackOrder)9), NativeStatus.InvalidArgument, fn, "order");
        Assert.Throws<ArgumentException>(() => wrapper(2, 17, PackOrder.Plain)); // spans too short: managed check
    }
}
