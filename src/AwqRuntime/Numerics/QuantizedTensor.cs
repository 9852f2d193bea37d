namespace AwqRuntime.Numerics;

/// <summary>
/// A quantized [Rows, Cols] matrix: integer codes (one per element, in <see cref="int"/> containers),
/// and one scale and zero point per group. Storage follows the native layout of
/// <see cref="QuantSpec.Layout"/>: per-tensor is one row of Rows*Cols values.
/// </summary>
public sealed class QuantizedTensor
{
    private readonly int[] _q;
    private readonly float[] _scales;
    private readonly int[] _zeros;

    /// <summary>Wraps existing codes, scales and zeros (for example from the native quantizer); the arrays are not copied.</summary>
    public QuantizedTensor(int rows, int cols, QuantSpec spec, int[] q, float[] scales, int[] zeros)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(scales);
        ArgumentNullException.ThrowIfNull(zeros);
        var (lr, lc, g) = spec.Layout(rows, cols);
        int groups = Quantizer.GroupsPerRow(lc, g);
        if (q.Length != (long)rows * cols) throw new ArgumentException($"q has {q.Length} elements, needs {(long)rows * cols}", nameof(q));
        if (scales.Length != (long)lr * groups)
            throw new ArgumentException($"scales has {scales.Length} elements, needs {(long)lr * groups}", nameof(scales));
        if (zeros.Length != scales.Length)
            throw new ArgumentException($"zeros has {zeros.Length} elements, needs {scales.Length}", nameof(zeros));
        Rows = rows;
        Cols = cols;
        Spec = spec;
        LayoutRows = lr;
        LayoutCols = lc;
        GroupSize = g;
        GroupsPerRow = groups;
        _q = q;
        _scales = scales;
        _zeros = zeros;
    }

    public int Rows { get; }
    public int Cols { get; }
    public QuantSpec Spec { get; }

    /// <summary>Rows of the storage layout (1 for per-tensor).</summary>
    public int LayoutRows { get; }

    /// <summary>Columns of the storage layout (Rows*Cols for per-tensor).</summary>
    public int LayoutCols { get; }

    /// <summary>Elements per group along a layout row (the last group of a row may be shorter).</summary>
    public int GroupSize { get; }

    /// <summary>Groups per layout row, ceil(LayoutCols / GroupSize).</summary>
    public int GroupsPerRow { get; }

    /// <summary>Codes, row-major [Rows, Cols].</summary>
    public ReadOnlySpan<int> Q => _q;

    /// <summary>Scales, [LayoutRows, GroupsPerRow].</summary>
    public ReadOnlySpan<float> Scales => _scales;

    /// <summary>Zero points, [LayoutRows, GroupsPerRow] (all 0 for symmetric).</summary>
    public ReadOnlySpan<int> Zeros => _zeros;

    /// <summary>Index into <see cref="Scales"/>/<see cref="Zeros"/> of the group holding element (row, col).</summary>
    public int GroupIndex(int row, int col)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        ArgumentOutOfRangeException.ThrowIfNegative(col);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(col, Cols);
        long flat = (long)row * Cols + col;
        long lr = flat / LayoutCols, lc = flat % LayoutCols;
        return (int)(lr * GroupsPerRow + lc / GroupSize);
    }

    public float Scale(int row, int col) => _scales[GroupIndex(row, col)];
    public int Zero(int row, int col) => _zeros[GroupIndex(row, col)];

    /// <summary>The fp32 values the codes stand for, (q - zero) * scale.</summary>
    public float[] Dequantize()
    {
        var output = new float[_q.Length];
        Dequantize(output);
        return output;
    }

    public void Dequantize(Span<float> output) =>
        Quantizer.Dequantize(_q, _scales, _zeros, LayoutRows, LayoutCols, GroupSize, output);

    /// <summary>Error of the dequantized values against <paramref name="original"/>.</summary>
    public QuantizationError Error(ReadOnlySpan<float> original) => QuantizationError.Compute(original, Dequantize());
}
