namespace AwqRuntime.Quantization;

/// <summary>
/// The awq_wna16_gemm kernel's lane-interleaved layout of b-bit codes (awq_kernels.h): pl = floor(32/b) codes per
/// int32 (16, 10, 8, 4 at 2, 3, 4, 8 bits); a row is cut into blocks of 8·pl columns, block t taking words 8t..8t+7,
/// word 8t + l holding columns t·8·pl + 8j + l (j = 0..pl−1) in bits j·b — so shifting a block's 8 words right by j·b
/// puts 8 consecutive columns in the 8 lanes of a vector. Rows are whole blocks, padded with zero codes. Checkpoints
/// keep compressed-tensors' pack_to_int32 order (<see cref="Numerics.PackedCodes"/>); this is the run-time copy.
/// </summary>
public static class WnA16Layout
{
    public static int CodesPerWord(int bits) => bits is 2 or 3 or 4 or 8 ? 32 / bits
        : throw new ArgumentOutOfRangeException(nameof(bits), $"the WnA16 kernel runs 2, 3, 4 or 8 bits (got {bits})");

    /// <summary>Words per row: 8 · ceil(cols / (8 · pl)).</summary>
    public static long WordsPerRow(long cols, int bits)
    {
        long block = 8L * CodesPerWord(bits);
        return 8 * ((cols + block - 1) / block);
    }

    /// <summary>Word and bit of column <paramref name="k"/> within its row.</summary>
    public static (long Word, int Bit) Locate(long k, int bits)
    {
        var pl = CodesPerWord(bits);
        long block = 8L * pl, r = k % block;
        return (8 * (k / block) + r % 8, (int)(r / 8) * bits);
    }

    /// <summary>q [rows, cols] (0..2^bits − 1) in the kernel layout.</summary>
    public static int[] Pack(ReadOnlySpan<byte> q, int rows, int cols, int bits)
    {
        var words = WordsPerRow(cols, bits);
        var packed = new int[rows * words];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                var v = q[r * cols + c];
                if (v >> bits != 0) throw new ArgumentOutOfRangeException(nameof(q), $"code {v} at [{r}, {c}] does not fit in {bits} bits");
                var (w, bit) = Locate(c, bits);
                packed[r * words + w] |= v << bit;
            }
        return packed;
    }

    /// <summary>The codes of <see cref="Pack"/> back, [rows, cols].</summary>
    public static byte[] Unpack(ReadOnlySpan<int> packed, int rows, int cols, int bits)
    {
        var words = WordsPerRow(cols, bits);
        var q = new byte[(long)rows * cols];
        var mask = (1u << bits) - 1;
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                var (w, bit) = Locate(c, bits);
                q[(long)r * cols + c] = (byte)(((uint)packed[(int)(r * words + w)] >> bit) & mask);
            }
        return q;
    }
}
