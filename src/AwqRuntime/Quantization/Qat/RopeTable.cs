namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Rotary position embedding in the runtime's interleaved-pair layout (native rope.c: pair (2i, 2i+1)
/// of every head rotated by pos · θ^(−2i/rot_dim) / freq_factor[i], the angle and its cosine/sine in
/// double, rounded once to fp32) for positions 0..T−1 of each sequence, and its reverse: a rotation's
/// gradient is the gradient rotated back, (dx0, dx1) = (c·dy0 + s·dy1, −s·dy0 + c·dy1).
/// </summary>
internal sealed class RopeTable
{
    private readonly float[] _cos;
    private readonly float[] _sin;
    private readonly int _half;
    private readonly int _seqLen;
    private readonly int _headDim;

    public RopeTable(int seqLen, int headDim, int rotDim, float theta, ReadOnlySpan<float> freqFactors)
    {
        _half = rotDim / 2;
        _seqLen = seqLen;
        _headDim = headDim;
        _cos = new float[seqLen * _half];
        _sin = new float[seqLen * _half];
        for (var p = 0; p < seqLen; p++)
            for (var i = 0; i < _half; i++)
            {
                var angle = p * Math.Pow(theta, -2.0 * i / rotDim);
                if (!freqFactors.IsEmpty) angle /= freqFactors[i];
                _cos[p * _half + i] = (float)Math.Cos(angle);
                _sin[p * _half + i] = (float)Math.Sin(angle);
            }
    }

    /// <summary>Rotates x [B·T, heads·d] in place (reverse: rotates a gradient back).</summary>
    public void Apply(Span<float> x, int rows, int heads, bool reverse)
    {
        for (var m = 0; m < rows; m++)
        {
            var p = m % _seqLen;
            for (var h = 0; h < heads; h++)
            {
                var v = x.Slice((m * heads + h) * _headDim, _headDim);
                for (var i = 0; i < _half; i++)
                {
                    var c = _cos[p * _half + i];
                    var s = reverse ? -_sin[p * _half + i] : _sin[p * _half + i];
                    float x0 = v[2 * i], x1 = v[2 * i + 1];
                    v[2 * i] = x0 * c - x1 * s;
                    v[2 * i + 1] = x0 * s + x1 * c;
                }
            }
        }
    }
}
