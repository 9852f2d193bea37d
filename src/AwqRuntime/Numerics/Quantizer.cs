namespace AwqRuntime.Numerics;

/// <summary>
/// Managed group-wise quantizer, bit for bit the same as native <c>awq_quantize</c> /
/// <c>awq_dequantize</c> (native/src/cpu/quantize.c documents the rules; this is a line-for-line
/// port). Every step is one fp32 operation in a fixed order: min/max by comparison, a true
/// division for the scale and for x / scale, round half to even, clamp in the float domain, then
/// convert. .NET evaluates float arithmetic in fp32 and never contracts to FMA, so both sides agree.
/// </summary>
public static class Quantizer
{
    /// <summary>Quantizes a row-major [rows, cols] matrix as <paramref name="spec"/> says.</summary>
    public static QuantizedTensor Quantize(ReadOnlySpan<float> data, int rows, int cols, QuantSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (lr, lc, g) = spec.Layout(rows, cols);
        RequireExactLength(data.Length, (long)rows * cols, nameof(data));
        int groups = GroupsPerRow(lc, g);
        var q = new int[(long)lr * lc];
        var scales = new float[(long)lr * groups];
        var zeros = new int[scales.Length];
        Quantize(data, lr, lc, g, spec.Bits, spec.Scheme, q, scales, zeros);
        return new QuantizedTensor(rows, cols, spec, q, scales, zeros);
    }

    /// <summary>
    /// The raw form with awq_quantize's contract: x [rows, cols], groups of <paramref name="groupSize"/>
    /// along cols (the last one may be shorter), q [rows, cols], scales and zeros [rows, ceil(cols/groupSize)].
    /// Throws <see cref="ArgumentException"/> for a non-finite x (naming row and column) and for a
    /// group whose range (or AWQ fp16 scale) overflows, as the native side returns an error.
    /// </summary>
    public static void Quantize(ReadOnlySpan<float> x, int rows, int cols, int groupSize, int bits, QuantScheme scheme,
                                Span<int> q, Span<float> scales, Span<int> zeros)
    {
        CheckShape(rows, cols, groupSize);
        if (bits < 2 || bits > 8) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bit width must be 2..8");
        if (!Enum.IsDefined(scheme)) throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "unknown scheme");
        int groups = GroupsPerRow(cols, groupSize);
        long numel = (long)rows * cols, nScales = (long)rows * groups;
        RequireLength(x.Length, numel, nameof(x));
        RequireLength(q.Length, numel, nameof(q));
        RequireLength(scales.Length, nScales, nameof(scales));
        RequireLength(zeros.Length, nScales, nameof(zeros));

        for (int r = 0; r < rows; r++)
        {
            for (int gi = 0; gi < groups; gi++)
            {
                int c0 = gi * groupSize, len = Math.Min(groupSize, cols - c0);
                int offset = r * cols + c0;
                var xg = x.Slice(offset, len);
                var status = GroupParams(xg, bits, scheme, out float scale, out int zero, out int bad);
                switch (status)
                {
                    case GroupStatus.NonFinite:
                        throw new ArgumentException(
                            $"x holds a non-finite value ({xg[bad]}) at row {r}, column {c0 + bad}", nameof(x));
                    case GroupStatus.RangeOverflow:
                        throw new ArgumentException($"max - min of row {r}, group {gi} overflows fp32", nameof(x));
                    case GroupStatus.ScaleOverflow:
                        throw new ArgumentException(
                            $"the scale of row {r}, group {gi} overflows fp16 (range too large for an AWQ checkpoint)", nameof(x));
                }
                scales[r * groups + gi] = scale;
                zeros[r * groups + gi] = zero;
                float lo, hi;
                if (scheme == QuantScheme.Symmetric)
                {
                    hi = (1 << (bits - 1)) - 1;
                    lo = -hi;
                }
                else
                {
                    // clamp(round(x/s) + zero, 0, qmax) written so that no huge float is ever added to
                    lo = -zero;
                    hi = ((1 << bits) - 1) - zero;
                }
                var qg = q.Slice(offset, len);
                for (int i = 0; i < xg.Length; i++)
                {
                    float t = MathF.Round(xg[i] / scale);
                    t = t < lo ? lo : (t > hi ? hi : t);
                    qg[i] = (int)t + zero;
                }
            }
        }
    }

    /// <summary>out = (q - zero) * scale, with awq_dequantize's layout and arithmetic.</summary>
    public static void Dequantize(ReadOnlySpan<int> q, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeros, int rows, int cols,
                                  int groupSize, Span<float> output)
    {
        CheckShape(rows, cols, groupSize);
        int groups = GroupsPerRow(cols, groupSize);
        long numel = (long)rows * cols, nScales = (long)rows * groups;
        RequireLength(q.Length, numel, nameof(q));
        RequireLength(scales.Length, nScales, nameof(scales));
        RequireLength(zeros.Length, nScales, nameof(zeros));
        RequireLength(output.Length, numel, nameof(output));
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < groups; g++)
            {
                int c0 = g * groupSize, len = Math.Min(groupSize, cols - c0);
                long zero = zeros[r * groups + g];
                float scale = scales[r * groups + g];
                var qg = q.Slice(r * cols + c0, len);
                var og = output.Slice(r * cols + c0, len);
                for (int i = 0; i < qg.Length; i++) og[i] = (float)(qg[i] - zero) * scale;
            }
        }
    }

    /// <summary>
    /// Quantize then dequantize (AutoAWQ's pseudo_quantize_tensor): the fp32 values the quantized
    /// matrix stands for, as used when searching AWQ scales and clipping thresholds.
    /// </summary>
    public static void FakeQuantize(ReadOnlySpan<float> data, int rows, int cols, QuantSpec spec, Span<float> output)
    {
        RequireExactLength(output.Length, (long)rows * cols, nameof(output));
        Quantize(data, rows, cols, spec).Dequantize(output);
    }

    /// <summary>ceil(cols / groupSize) without overflow.</summary>
    public static int GroupsPerRow(int cols, int groupSize) => QuantGroups.Count(cols, groupSize);

    private enum GroupStatus { Ok, NonFinite, RangeOverflow, ScaleOverflow }

    private static GroupStatus GroupParams(ReadOnlySpan<float> x, int bits, QuantScheme scheme, out float scale, out int zero,
                                           out int bad)
    {
        scale = 0;
        zero = 0;
        bad = 0;
        float mn = x[0], mx = x[0];
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            if (!float.IsFinite(v))
            {
                bad = i;
                return GroupStatus.NonFinite;
            }
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }

        if (scheme == QuantScheme.Symmetric)
        {
            float qmaxSym = (1 << (bits - 1)) - 1;
            float amax = MathF.Abs(mn) > MathF.Abs(mx) ? MathF.Abs(mn) : MathF.Abs(mx);
            scale = amax / qmaxSym;
            if (scale == 0f) scale = amax != 0f ? amax : 1f;
            return GroupStatus.Ok;
        }

        float qmax = (1 << bits) - 1;
        if (scheme == QuantScheme.Awq)
        {
            float range = mx - mn;
            if (float.IsInfinity(range)) return GroupStatus.RangeOverflow;
            if (range < 1e-5f) range = 1e-5f;
            scale = Fp16.Round(range / qmax);
            if (float.IsInfinity(scale)) return GroupStatus.ScaleOverflow;
        }
        else
        {
            if (mn > 0f) mn = 0f;
            if (mx < 0f) mx = 0f;
            float range = mx - mn;
            if (float.IsInfinity(range)) return GroupStatus.RangeOverflow;
            scale = range / qmax;
            if (scale == 0f)
            {
                float amax = -mn > mx ? -mn : mx;
                scale = amax != 0f ? amax : 1f;
            }
        }
        float z = MathF.Round(-mn / scale);
        z = z < 0f ? 0f : (z > qmax ? qmax : z);
        zero = (int)z;
        return GroupStatus.Ok;
    }

    private static void CheckShape(int rows, int cols, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
    }

    private static void RequireLength(int length, long needed, string name)
    {
        if (length < needed) throw new ArgumentException($"{name} has {length} elements, needs {needed}", name);
    }

    private static void RequireExactLength(int length, long needed, string name)
    {
        if (length != needed) throw new ArgumentException($"{name} has {length} elements, the shape needs {needed}", name);
    }
}
