namespace AwqRuntime.Numerics;

/// <summary>
/// What to quantize to: bit width (2..8), scheme and granularity (with the group size for
/// <see cref="Granularity.PerGroup"/>). A [rows, cols] matrix maps onto the native layout as
///   per-tensor : 1 row of rows*cols values, one group;
///   per-channel: rows rows, group size cols;
///   per-group  : rows rows, group size G along cols (the last group of a row may be shorter).
/// </summary>
public sealed record QuantSpec
{
    public QuantSpec(int bits, QuantScheme scheme, Granularity granularity, int groupSize = 0)
    {
        if (bits < 2 || bits > 8) throw new ArgumentOutOfRangeException(nameof(bits), bits, "bit width must be 2..8");
        if (!Enum.IsDefined(scheme)) throw new ArgumentOutOfRangeException(nameof(scheme), scheme, "unknown scheme");
        if (!Enum.IsDefined(granularity))
            throw new ArgumentOutOfRangeException(nameof(granularity), granularity, "unknown granularity");
        if (granularity == Granularity.PerGroup && groupSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, "per-group quantization needs a positive group size");
        if (granularity != Granularity.PerGroup && groupSize != 0)
            throw new ArgumentOutOfRangeException(nameof(groupSize), groupSize, $"{granularity} takes no group size");
        Bits = bits;
        Scheme = scheme;
        Granularity = granularity;
        GroupSize = groupSize;
    }

    public static QuantSpec PerTensor(int bits, QuantScheme scheme) => new(bits, scheme, Granularity.PerTensor);
    public static QuantSpec PerChannel(int bits, QuantScheme scheme) => new(bits, scheme, Granularity.PerChannel);
    public static QuantSpec PerGroup(int bits, QuantScheme scheme, int groupSize) => new(bits, scheme, Granularity.PerGroup, groupSize);

    /// <summary>AutoAWQ's default: 4-bit, AWQ scheme (zero point, fp16 scales), groups of 128.</summary>
    public static QuantSpec AwqInt4(int groupSize = 128) => PerGroup(4, QuantScheme.Awq, groupSize);

    public int Bits { get; }
    public QuantScheme Scheme { get; }
    public Granularity Granularity { get; }

    /// <summary>Group size for <see cref="Granularity.PerGroup"/>; 0 otherwise.</summary>
    public int GroupSize { get; }

    /// <summary>The format the q values live in: INT(b) restricted to ±(2^(b-1)-1) for symmetric, UINT(b) otherwise.</summary>
    public IntegerFormat Format => Scheme == QuantScheme.Symmetric ? IntegerFormat.Signed(Bits) : IntegerFormat.Unsigned(Bits);

    /// <summary>Smallest q value produced: -(2^(b-1)-1) for symmetric (the format's minimum is never used), else 0.</summary>
    public int QMin => Scheme == QuantScheme.Symmetric ? -QMax : 0;

    /// <summary>Largest q value produced: 2^(b-1)-1 for symmetric, else 2^b-1.</summary>
    public int QMax => Scheme == QuantScheme.Symmetric ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;

    /// <summary>The native layout (rows, cols, group size) a [rows, cols] matrix is quantized in.</summary>
    public (int Rows, int Cols, int GroupSize) Layout(int rows, int cols)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        return Granularity switch
        {
            Granularity.PerTensor => (1, checked(rows * cols), checked(rows * cols)),
            Granularity.PerChannel => (rows, cols, cols),
            _ => (rows, cols, GroupSize),
        };
    }

    public override string ToString() =>
        $"{Scheme} {Bits}-bit {Granularity}" + (Granularity == Granularity.PerGroup ? $" g{GroupSize}" : "");
}
