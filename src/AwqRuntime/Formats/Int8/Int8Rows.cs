namespace AwqRuntime.Formats.Int8;

/// <summary>Output-row reordering of an INT8 linear (weights and their per-row scales move together).</summary>
internal static class Int8Rows
{
    /// <summary>Row i of the result is row perm[i] of the input.</summary>
    public static (sbyte[] Weight, float[] Scales) Permute(ReadOnlySpan<sbyte> wq, ReadOnlySpan<float> scales, int columns, IReadOnlyList<int> perm)
    {
        if (perm.Count != scales.Length) throw new ArgumentException($"permutation of {perm.Count} rows for {scales.Length} rows");
        var w = new sbyte[wq.Length];
        var s = new float[scales.Length];
        for (var i = 0; i < perm.Count; i++)
        {
            wq.Slice(perm[i] * columns, columns).CopyTo(w.AsSpan(i * columns, columns));
            s[i] = scales[perm[i]];
        }
        return (w, s);
    }
}
