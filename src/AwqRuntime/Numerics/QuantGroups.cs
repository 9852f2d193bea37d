namespace AwqRuntime.Numerics;

/// <summary>Group arithmetic of group-wise quantization, in one place.</summary>
public static class QuantGroups
{
    /// <summary>
    /// Groups along a row of <paramref name="length"/> values, ceil(length / groupSize) without
    /// overflow: the last group is shorter when groupSize does not divide the length.
    /// </summary>
    public static int Count(int length, int groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
        return length / groupSize + (length % groupSize != 0 ? 1 : 0);
    }

    /// <inheritdoc cref="Count(int, int)"/>
    public static long Count(long length, long groupSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groupSize);
        return length / groupSize + (length % groupSize != 0 ? 1 : 0);
    }
}
