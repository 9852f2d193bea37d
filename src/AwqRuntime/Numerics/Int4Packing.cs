namespace AwqRuntime.Numerics;

/// <summary>
/// INT4 packing, 8 nibbles per 32-bit word along the last dimension, on the native
/// <c>awq_pack_int4</c>/<c>awq_unpack_int4</c> (the one implementation; this class checks arguments and
/// names a bad value before the call): AWQ order puts column 8c + AwqOrder[i] in nibble i
/// (AutoAWQ's GEMM checkpoint layout), plain order column 8c + i. A row whose length 8 does not
/// divide ends in a word padded with zero nibbles; unpacking ignores the padding.
/// </summary>
public static class Int4Packing
{
    private static readonly int[] AwqOrderTable = [0, 2, 4, 6, 1, 3, 5, 7];
    private static readonly int[] AwqReverseOrderTable = [0, 4, 1, 5, 2, 6, 3, 7];
    private static readonly int[] PlainOrderTable = [0, 1, 2, 3, 4, 5, 6, 7];

    /// <summary>AutoAWQ's AWQ_ORDER: nibble i holds column AwqOrder[i] of its group of 8.</summary>
    public static ReadOnlySpan<int> AwqOrder => AwqOrderTable;

    /// <summary>AutoAWQ's AWQ_REVERSE_ORDER: column j lives in nibble AwqReverseOrder[j].</summary>
    public static ReadOnlySpan<int> AwqReverseOrder => AwqReverseOrderTable;

    /// <summary>Words per packed row, ceil(cols / 8).</summary>
    public static int PackedCols(int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        return cols / 8 + (cols % 8 != 0 ? 1 : 0);
    }

    public static int[] Pack(ReadOnlySpan<int> q, int rows, int cols, PackOrder order)
    {
        var packed = new int[(long)rows * PackedCols(cols)];
        Pack(q, rows, cols, order, packed);
        return packed;
    }

    /// <summary>
    /// Packs q [rows, cols] (values 0..15) into packed [rows, ceil(cols/8)]. A value outside 0..15
    /// throws <see cref="ArgumentOutOfRangeException"/> naming the first one in row-major order;
    /// <paramref name="packed"/> is then left untouched.
    /// </summary>
    public static void Pack(ReadOnlySpan<int> q, int rows, int cols, PackOrder order, Span<int> packed)
    {
        _ = Table(order); // an unknown order is an ArgumentOutOfRangeException here, not a native status
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        int words = PackedCols(cols);
        RequireLength(q.Length, (long)rows * cols, nameof(q));
        RequireLength(packed.Length, (long)rows * words, nameof(packed));
        int n = rows * cols;
        for (int i = 0; i < n; i++)
        {
            if ((uint)q[i] > 15u)
                throw new ArgumentOutOfRangeException(nameof(q), q[i],
                    $"q holds {q[i]} at row {i / cols}, column {i % cols} (must be 0..15)");
        }
        Native.Kernels.PackInt4(q[..n], rows, cols, order, packed);
    }

    public static int[] Unpack(ReadOnlySpan<int> packed, int rows, int cols, PackOrder order)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        var q = new int[(long)rows * cols];
        Unpack(packed, rows, cols, order, q);
        return q;
    }

    /// <summary>Unpacks packed [rows, ceil(cols/8)] into q [rows, cols] (values 0..15).</summary>
    public static void Unpack(ReadOnlySpan<int> packed, int rows, int cols, PackOrder order, Span<int> q)
    {
        _ = Table(order); // an unknown order is an ArgumentOutOfRangeException here, not a native status
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        int words = PackedCols(cols);
        RequireLength(packed.Length, (long)rows * words, nameof(packed));
        RequireLength(q.Length, (long)rows * cols, nameof(q));
        Native.Kernels.UnpackInt4(packed[..(rows * words)], rows, cols, order, q[..(rows * cols)]);
    }

    private static int[] Table(PackOrder order) => order switch
    {
        PackOrder.Awq => AwqOrderTable,
        PackOrder.Plain => PlainOrderTable,
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "unknown pack order"),
    };

    private static void RequireLength(int length, long needed, string name)
    {
        if (length < needed) throw new ArgumentException($"{name} has {length} elements, needs {needed}", name);
    }
}
