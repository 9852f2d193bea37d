using System.Numerics.Tensors;

namespace AwqRuntime.Evaluation;

/// <summary>
/// The reference model's next-token distributions at a window's scored positions — log p, p and the
/// most likely token of every row — computed once per window and shared by every model compared
/// with it (<see cref="DistributionComparison.Add(ReferenceRows, int, ReadOnlySpan{float}, int)"/>).
/// </summary>
public sealed class ReferenceRows
{
    private double[] _logProbs = [];
    private double[] _probs = [];
    private int[] _top = [];

    public int Count { get; private set; }
    public int VocabSize { get; private set; }

    /// <summary>Replaces the rows with those of <paramref name="logits"/> [rows, vocab].</summary>
    public void Set(ReadOnlySpan<float> logits, int rows, int vocab)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocab);
        var n = (long)rows * vocab;
        if (logits.Length < n) throw new ArgumentException($"logits hold {logits.Length} values, {rows} rows of {vocab} need {n}");
        if (_logProbs.Length < n)
        {
            _logProbs = new double[n];
            _probs = new double[n];
        }
        if (_top.Length < rows) _top = new int[rows];
        for (var r = 0; r < rows; r++)
        {
            var row = logits.Slice(r * vocab, vocab);
            var lp = _logProbs.AsSpan(r * vocab, vocab);
            LogSoftmax.Compute(row, lp);
            TensorPrimitives.Exp(lp, _probs.AsSpan(r * vocab, vocab));
            _top[r] = ArgMax(row);
        }
        Count = rows;
        VocabSize = vocab;
    }

    public ReadOnlySpan<double> LogProbs(int row) => _logProbs.AsSpan(Checked(row) * VocabSize, VocabSize);

    public ReadOnlySpan<double> Probs(int row) => _probs.AsSpan(Checked(row) * VocabSize, VocabSize);

    /// <summary>The most likely token of the row (the first of equal maxima).</summary>
    public int Top(int row) => _top[Checked(row)];

    /// <summary>Index of the first maximum (log-softmax is monotone, so the top token of the logits is that of the distribution).</summary>
    internal static int ArgMax(ReadOnlySpan<float> row)
    {
        var arg = 0;
        for (var i = 1; i < row.Length; i++)
            if (row[i] > row[arg]) arg = i;
        return arg;
    }

    private int Checked(int row) =>
        (uint)row < (uint)Count ? row : throw new ArgumentOutOfRangeException(nameof(row), $"row {row} outside the {Count} reference rows");
}
