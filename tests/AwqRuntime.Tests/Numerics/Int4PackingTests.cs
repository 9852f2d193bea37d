using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Tests.Numerics;

public class Int4PackingTests
{
    /// <summary>
    /// Unpacking written from AutoAWQ's documented semantics (awq/utils/packing_utils.py): nibble k
    /// is (word >> 4k) &amp; 15, and column j of a group of 8 sits in nibble AWQ_REVERSE_ORDER[j].
    /// </summary>
    private static int IndependentUnpackAwq(ReadOnlySpan<int> packedRow, int col)
    {
        int[] reverseOrder = [0, 4, 1, 5, 2, 6, 3, 7];
        uint word = (uint)packedRow[col / 8];
        return (int)((word >> (4 * reverseOrder[col % 8])) & 15);
    }

    private static int[] RandomCodes(int n, Random rng) => Enumerable.Range(0, n).Select(_ => rng.Next(16)).ToArray();

    [Fact]
    public void Hand_computed_words()
    {
        int[] q = [0, 1, 2, 3, 4, 5, 6, 7];
        // AWQ order: nibbles 0..7 hold columns 0,2,4,6,1,3,5,7 -> hex digits (low to high) 0,2,4,6,1,3,5,7
        Assert.Equal(unchecked((int)0x75316420u), Int4Packing.Pack(q, 1, 8, PackOrder.Awq)[0]);
        Assert.Equal(unchecked((int)0x76543210u), Int4Packing.Pack(q, 1, 8, PackOrder.Plain)[0]);
        // values 1..8: the top nibble is 8, so the int32 is negative
        Assert.Equal(unchecked((int)0x86427531u), Int4Packing.Pack([1, 2, 3, 4, 5, 6, 7, 8], 1, 8, PackOrder.Awq)[0]);
        Assert.Equal(-1, Int4Packing.Pack(Enumerable.Repeat(15, 8).ToArray(), 1, 8, PackOrder.Awq)[0]);
        // 3 columns: AWQ puts columns 0,1,2 into nibbles 0,4,1; the other nibbles are zero padding
        Assert.Equal(0x000B00CA, Int4Packing.Pack([0xA, 0xB, 0xC], 1, 3, PackOrder.Awq)[0]);
        Assert.Equal(0x00000CBA, Int4Packing.Pack([0xA, 0xB, 0xC], 1, 3, PackOrder.Plain)[0]);
        var native = new int[1];
        Kernels.PackInt4(q, 1, 8, PackOrder.Awq, native);
        Assert.Equal(unchecked((int)0x75316420u), native[0]);
        Assert.Equal([0, 2, 4, 6, 1, 3, 5, 7], Int4Packing.AwqOrder.ToArray());
        for (int j = 0; j < 8; j++) Assert.Equal(j, Int4Packing.AwqOrder[Int4Packing.AwqReverseOrder[j]]);
    }

    [Fact]
    public void Random_shapes_round_trip_and_managed_equals_native_equals_independent_unpack()
    {
        var rng = new Random(42);
        for (int trial = 0; trial < 400; trial++)
        {
            int rows = rng.Next(1, 10), cols = trial == 0 ? 172 : rng.Next(1, 90); // many cols % 8 != 0
            int words = Int4Packing.PackedCols(cols);
            Assert.Equal((cols + 7) / 8, words);
            var q = RandomCodes(rows * cols, rng);
            foreach (var order in new[] { PackOrder.Awq, PackOrder.Plain })
            {
                var packed = Int4Packing.Pack(q, rows, cols, order);
                Assert.Equal(rows * words, packed.Length);
                var native = new int[packed.Length];
                Kernels.PackInt4(q, rows, cols, order, native);
                Assert.Equal(packed, native);
                Assert.Equal(q, Int4Packing.Unpack(packed, rows, cols, order));
                var nativeBack = new int[q.Length];
                Kernels.UnpackInt4(packed, rows, cols, order, nativeBack);
                Assert.Equal(q, nativeBack);
                for (int r = 0; r < rows; r++)
                {
                    var row = packed.AsSpan(r * words, words);
                    for (int c = 0; c < cols; c++)
                    {
                        int want = q[r * cols + c];
                        int got = order == PackOrder.Awq ? IndependentUnpackAwq(row, c) : (int)(((uint)row[c / 8] >> (4 * (c % 8))) & 15);
                        Assert.Equal(want, got);
                    }
                    // padding nibbles are zero: the last word is exactly the sum of its real columns
                    uint rebuilt = 0;
                    for (int c = (words - 1) * 8; c < cols; c++)
                    {
                        int nibble = order == PackOrder.Awq ? Int4Packing.AwqReverseOrder[c % 8] : c % 8;
                        rebuilt |= (uint)q[r * cols + c] << (4 * nibble);
                    }
                    Assert.Equal(rebuilt, (uint)row[words - 1]);
                }
            }
        }
    }

    [Fact]
    public void Unpacking_ignores_padding_nibbles_and_packing_full_words_is_a_bijection()
    {
        var rng = new Random(7);
        var words = Enumerable.Range(0, 12).Select(_ => rng.Next(int.MinValue, int.MaxValue)).ToArray();
        foreach (var order in new[] { PackOrder.Awq, PackOrder.Plain })
        {
            var q = Int4Packing.Unpack(words, 3, 32, order);
            Assert.Equal(words, Int4Packing.Pack(q, 3, 32, order));
            // 29 columns: the last 3 nibbles of each row's last word are padding, whatever they hold
            var short29 = Int4Packing.Unpack(words, 3, 29, order);
            var native = new int[3 * 29];
            Kernels.UnpackInt4(words, 3, 29, order, native);
            Assert.Equal(short29, native);
            for (int r = 0; r < 3; r++) Assert.Equal(q.AsSpan(r * 32, 29).ToArray(), short29.AsSpan(r * 29, 29).ToArray());
        }
    }

    [Fact]
    public void Values_outside_0_to_15_are_rejected_naming_the_first_one()
    {
        var q = new int[2 * 12];
        q[17] = 16;
        q[20] = -1;
        var packed = new int[4];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Int4Packing.Pack(q, 2, 12, PackOrder.Awq, packed));
        Assert.Equal("q", ex.ParamName);
        Assert.Contains("holds 16 at row 1, column 5", ex.Message);
        Assert.All(packed, w => Assert.Equal(0, w)); // untouched
        var nex = Assert.Throws<NativeKernelException>(() => Kernels.PackInt4(q, 2, 12, PackOrder.Awq, packed));
        Assert.Equal(NativeStatus.InvalidArgument, nex.Status);
        Assert.Contains("awq_pack_int4", nex.Message);
        Assert.Contains("'q' holds 16 at row 1, column 5", nex.Message);
        q[17] = 3;
        Assert.Contains("holds -1 at row 1, column 8",
            Assert.Throws<ArgumentOutOfRangeException>(() => Int4Packing.Pack(q, 2, 12, PackOrder.Plain)).Message);
    }

    [Fact]
    public void Quantized_awq_codes_pack_and_unpack_to_the_same_dequantized_weights()
    {
        const int rows = 8, cols = 172;
        var rng = new Random(3);
        var w = Enumerable.Range(0, rows * cols).Select(_ => rng.NextSingle() - 0.5f).ToArray();
        var t = Quantizer.Quantize(w, rows, cols, QuantSpec.AwqInt4(64));
        var packed = Int4Packing.Pack(t.Q, rows, cols, PackOrder.Awq);
        var zerosPacked = Int4Packing.Pack(t.Zeros, rows, t.GroupsPerRow, PackOrder.Awq);
        var q = Int4Packing.Unpack(packed, rows, cols, PackOrder.Awq);
        var z = Int4Packing.Unpack(zerosPacked, rows, t.GroupsPerRow, PackOrder.Awq);
        var back = new float[rows * cols];
        Quantizer.Dequantize(q, t.Scales, z, rows, cols, 64, back);
        Assert.Equal(t.Dequantize(), back);
    }
}
