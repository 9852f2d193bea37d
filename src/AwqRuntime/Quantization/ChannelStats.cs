namespace AwqRuntime.Quantization;

/// <summary>
/// Per-input-channel activation statistics of one linear over all calibration tokens: mean |x|
/// (AWQ's saliency, AWQ paper §3.1; AutoAWQ get_act_scale) and mean x² (llama.cpp's imatrix statistic), both
/// accumulated in double.
/// </summary>
public sealed class ChannelStats
{
    private readonly double[] _sumAbs;
    private readonly double[] _sumSq;

    public ChannelStats(int channels)
    {
        _sumAbs = new double[channels];
        _sumSq = new double[channels];
    }

    /// <summary>Statistics restored from their sums (a resumed quantization's finished blocks).</summary>
    internal ChannelStats(double[] sumAbs, double[] sumSq, long count)
    {
        if (sumAbs.Length != sumSq.Length) throw new ArgumentException("sum |x| and sum x² have different channel counts");
        _sumAbs = sumAbs;
        _sumSq = sumSq;
        Count = count;
    }

    internal ReadOnlySpan<double> SumAbs => _sumAbs;

    internal ReadOnlySpan<double> SumSq => _sumSq;

    public int Channels => _sumAbs.Length;
    public long Count { get; private set; }

    /// <summary>Adds rows of x [rows, Channels].</summary>
    public void Add(ReadOnlySpan<float> x, int rows)
    {
        var c = Channels;
        if (x.Length < (long)rows * c) throw new ArgumentException("activation buffer shorter than rows x channels");
        for (var r = 0; r < rows; r++)
        {
            var row = x.Slice(r * c, c);
            for (var j = 0; j < c; j++)
            {
                double v = row[j];
                _sumAbs[j] += Math.Abs(v);
                _sumSq[j] += v * v;
            }
        }
        Count += rows;
    }

    public float[] MeanAbs() => _sumAbs.Select(s => (float)(s / Math.Max(Count, 1))).ToArray();
    /// <summary>Σ x² per channel over all tokens (llama.cpp's imatrix in_sum2).</summary>
    public float[] SumSquare() => _sumSq.Select(s => (float)s).ToArray();

    public float[] MeanSquare() => _sumSq.Select(s => (float)(s / Math.Max(Count, 1))).ToArray();
}
