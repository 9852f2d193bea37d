namespace AwqRuntime.Numerics;

/// <summary>
/// compressed-tensors' pack_to_int32 / unpack_from_int32 (vllm-project/compressed-tensors,
/// compressors/quantized_compressors/pack_quantized.py) for unsigned codes of 2..8 bits: pf = 32 / bits
/// codes per int32 word along the packed dimension (16, 10, 8, 6, 5, 4, 4), value i of word w at bits
/// i·bits .. i·bits + bits − 1, holding element w·pf + i — consecutive elements, least significant
/// first. 3-bit words hold 10 codes in bits 0..29 and leave 30..31 zero; a dimension pf does not
/// divide ends in a word padded with zero codes. The layout of both pack-quantized checkpoints'
/// weight_packed / weight_zero_point and the awq_wna16_gemm kernel's qweight.
/// </summary>
public static class PackedCodes
{
    /// <summary>Codes per 32-bit word: 32 / bits.</summary>
    public static int PerWord(int bits)
    {
        if (bits is < 2 or > 8) throw new ArgumentOutOfRangeException(nameof(bits), $"bits must be 2..8 (got {bits})");
        return 32 / bits;
    }

    /// <summary>Words holding <paramref name="length"/> codes: ceil(length / (32 / bits)).</summary>
    public static long WordsPerRow(long length, int bits) => QuantGroups.Count(length, PerWord(bits));

    /// <summary>q [rows, cols] (0..2^bits − 1) packed along cols into [rows, ceil(cols/pf)] (packed_dim 1).</summary>
    public static int[] PackRows(ReadOnlySpan<byte> q, int rows, int cols, int bits)
    {
        var pf = PerWord(bits);
        var words = (int)WordsPerRow(cols, bits);
        var packed = new int[(long)rows * words];
        for (var r = 0; r < rows; r++)
        {
            var src = q.Slice(r * cols, cols);
            var dst = packed.AsSpan(r * words, words);
            for (var c = 0; c < cols; c++)
            {
                if (src[c] >> bits != 0) throw new ArgumentOutOfRangeException(nameof(q), $"code {src[c]} at [{r}, {c}] does not fit in {bits} bits");
                dst[c / pf] |= src[c] << (c % pf * bits);
            }
        }
        return packed;
    }

    /// <summary>
    /// q [rows, cols] packed along rows into [ceil(rows/pf), cols] (packed_dim 0, how compressed-tensors
    /// stores zero points): row w·pf + i of column c in bits i·bits of entry [w, c].
    /// </summary>
    public static int[] PackColumns(ReadOnlySpan<byte> q, int rows, int cols, int bits)
    {
        var pf = PerWord(bits);
        var packed = new int[WordsPerRow(rows, bits) * cols];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                var v = q[r * cols + c];
                if (v >> bits != 0) throw new ArgumentOutOfRangeException(nameof(q), $"code {v} at [{r}, {c}] does not fit in {bits} bits");
                packed[(long)(r / pf) * cols + c] |= v << (r % pf * bits);
            }
        return packed;
    }

    /// <summary>Code of element <paramref name="i"/> of a row packed along its length.</summary>
    public static byte Code(ReadOnlySpan<int> row, long i, int bits)
    {
        var pf = 32 / bits;
        return (byte)(((uint)row[(int)(i / pf)] >> (int)(i % pf * bits)) & ((1u << bits) - 1));
    }

    /// <summary>
    /// The inverse of <see cref="PackRows"/>. Padding codes past cols (and a 3-bit word's top bits) must be
    /// zero, or the compressed-tensors signed zero 2^(bits−1) as a stored padding may be; anything else throws,
    /// naming <paramref name="where"/> and the row.
    /// </summary>
    public static byte[] UnpackRows(ReadOnlySpan<int> packed, int rows, int cols, int bits, string where)
    {
        var pf = PerWord(bits);
        var words = (int)WordsPerRow(cols, bits);
        if (packed.Length != (long)rows * words) throw new InvalidDataException($"{where}: {packed.Length} words, expected {rows}x{words}");
        var q = new byte[(long)rows * cols];
        var unused = pf * bits == 32 ? 0u : ~0u << (pf * bits);
        for (var r = 0; r < rows; r++)
        {
            var row = packed.Slice(r * words, words);
            for (var c = 0; c < cols; c++) q[(long)r * cols + c] = Code(row, c, bits);
            for (var c = cols; c < words * pf; c++)
                if (Code(row, c, bits) is var pad and not 0 && pad != 1 << (bits - 1))
                    throw new InvalidDataException($"{where}: row {r} has a non-zero padding code past column {cols}");
            foreach (var w in row)
                if (((uint)w & unused) != 0)
                    throw new InvalidDataException($"{where}: row {r} has bits set above the {pf} {bits}-bit codes of a word");
        }
        return q;
    }

    /// <summary>The inverse of <see cref="PackColumns"/> (padding rows past <paramref name="rows"/> are not read).</summary>
    public static byte[] UnpackColumns(ReadOnlySpan<int> packed, int rows, int cols, int bits)
    {
        var pf = PerWord(bits);
        var q = new byte[(long)rows * cols];
        var mask = (1u << bits) - 1;
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                q[(long)r * cols + c] = (byte)(((uint)packed[(r / pf) * cols + c] >> (r % pf * bits)) & mask);
        return q;
    }
}
