namespace AwqRuntime.Model;

/// <summary>
/// Row permutation of q_proj / k_proj between Hugging Face's rotate_half RoPE layout and the
/// canonical interleaved-pair layout (Meta / llama.cpp / llama2.c). Within each head of width d,
/// the interleaved row 2i + j holds HF row j·d/2 + i (i &lt; d/2, j ∈ {0, 1}): HF rotates dims
/// (i, i + d/2) together, the interleaved layout rotates (2i, 2i + 1). This is llama.cpp
/// convert_hf_to_gguf.py LlamaModel.permute (reshape rows (heads, 2, d/2) → swap axes → reshape) and
/// its inverse; k uses the KV head count. Columns (the input dimension) are untouched.
/// </summary>
public static class RopePermutation
{
    /// <summary>HF rotate_half layout → interleaved (what loaders do to stored HF q/k).</summary>
    public static float[] HfToInterleaved(ReadOnlySpan<float> weight, int heads, int headDim, int columns) =>
        Permute(weight, heads, headDim, columns, toInterleaved: true);

    /// <summary>Interleaved → HF rotate_half layout (what HF writers do).</summary>
    public static float[] InterleavedToHf(ReadOnlySpan<float> weight, int heads, int headDim, int columns) =>
        Permute(weight, heads, headDim, columns, toInterleaved: false);

    /// <summary>
    /// A q/k tensor of <paramref name="c"/> (weight [rows, in] or bias [rows]) from HF's layout to the
    /// interleaved one; <paramref name="shape"/> is the tensor's.
    /// </summary>
    public static float[] HfToInterleaved(ReadOnlySpan<float> tensor, LlamaConfig c, LinearKind kind, long[] shape) =>
        Permute(tensor, kind.RotaryHeads(c), c.EffectiveHeadDim, shape.Length == 2 ? (int)shape[1] : 1, toInterleaved: true);

    /// <summary>The inverse of <see cref="HfToInterleaved(ReadOnlySpan{float}, LlamaConfig, LinearKind, long[])"/>.</summary>
    public static float[] InterleavedToHf(ReadOnlySpan<float> tensor, LlamaConfig c, LinearKind kind, long[] shape) =>
        Permute(tensor, kind.RotaryHeads(c), c.EffectiveHeadDim, shape.Length == 2 ? (int)shape[1] : 1, toInterleaved: false);

    /// <summary>The HF row that becomes interleaved row <paramref name="row"/> (row = head·d + 2i + j).</summary>
    public static int HfRowOfInterleavedRow(int row, int headDim)
    {
        var head = row / headDim;
        var r = row % headDim;
        return head * headDim + (r % 2) * (headDim / 2) + r / 2;
    }

    /// <summary>
    /// For packed or transposed tensors (AWQ qweight/scales of an HF q/k projection, whose output
    /// channels are in rotate_half order): element c is the HF output channel that becomes canonical
    /// (interleaved) channel c.
    /// </summary>
    public static int[] InterleavedChannelOrder(int heads, int headDim)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentException($"head dimension {headDim} must be positive and even", nameof(headDim));
        var map = new int[heads * headDim];
        for (var c = 0; c < map.Length; c++) map[c] = HfRowOfInterleavedRow(c, headDim);
        return map;
    }

    private static float[] Permute(ReadOnlySpan<float> w, int heads, int headDim, int columns, bool toInterleaved)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        if (headDim <= 0 || headDim % 2 != 0) throw new ArgumentException($"head dimension {headDim} must be positive and even", nameof(headDim));
        var rows = (long)heads * headDim;
        if (rows * columns != w.Length)
            throw new ArgumentException($"weight has {w.Length} elements, expected {heads} heads × {headDim} × {columns} columns");
        var result = new float[w.Length];
        for (var row = 0; row < rows; row++)
        {
            var hfRow = HfRowOfInterleavedRow(row, headDim);
            var (src, dst) = toInterleaved ? (hfRow, row) : (row, hfRow);
            w.Slice(src * columns, columns).CopyTo(result.AsSpan(dst * columns, columns));
        }
        return result;
    }
}
