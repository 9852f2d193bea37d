using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization;

/// <summary>
/// One group-quantized linear in plain, unpacked form — the one type every layout converts from and
/// to (<see cref="Int4Layouts"/>): integer weights q[n,k] (0..2^bits−1), per-group scales as fp16
/// bits (the type of both the checkpoint and the kernel, so a scale is rounded once, when it is
/// computed) and zero points, groups of <see cref="GroupSize"/> along K (the last one shorter when
/// GroupSize does not divide K). W[n,k] ≈ (q[n,k] − zero[n,g]) · scale[n,g], g = k / GroupSize.
/// </summary>
public sealed class QuantizedWeights
{
    public QuantizedWeights(int outFeatures, int inFeatures, int groupSize, int bits, byte[] q, ushort[] scales, byte[] zeros)
    {
        if (bits is < 2 or > 8) throw new ArgumentOutOfRangeException(nameof(bits), $"bits must be 2..8 (got {bits})");
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        GroupSize = groupSize;
        Bits = bits;
        Groups = QuantGroups.Count(inFeatures, groupSize);
        if (q.Length != (long)outFeatures * inFeatures) throw new ArgumentException($"q has {q.Length} values, expected {outFeatures}x{inFeatures}");
        if (scales.Length != (long)outFeatures * Groups || zeros.Length != scales.Length)
            throw new ArgumentException($"scales/zeros must have {outFeatures}x{Groups} values");
        Q = q;
        Scales = scales;
        Zeros = zeros;
    }

    public int OutFeatures { get; }
    public int InFeatures { get; }
    public int GroupSize { get; }
    public int Bits { get; }
    public int Groups { get; }

    /// <summary>[Out, In] integer weights.</summary>
    public byte[] Q { get; }

    /// <summary>[Out, Groups] scales, fp16 bits.</summary>
    public ushort[] Scales { get; }

    /// <summary>[Out, Groups] zero points.</summary>
    public byte[] Zeros { get; }

    /// <summary>Scale of group <paramref name="i"/> (row-major over [Out, Groups]) as fp32.</summary>
    public float Scale(long i) => Fp16.ToSingle(Scales[i]);

    /// <summary>(q − z)·s as fp32, [Out, In].</summary>
    public float[] Dequantize()
    {
        var w = new float[Q.Length];
        for (var n = 0; n < OutFeatures; n++)
            for (var k = 0; k < InFeatures; k++)
            {
                var g = (long)n * Groups + k / GroupSize;
                w[(long)n * InFeatures + k] = (Q[(long)n * InFeatures + k] - Zeros[g]) * Scale(g);
            }
        return w;
    }

    /// <summary>Bytes when packed as stored: bits per weight plus an fp16 scale and a bits-wide zero per group.</summary>
    public long PackedBytes => ((long)OutFeatures * InFeatures * Bits + (long)OutFeatures * Groups * (16 + Bits) + 7) / 8;

    /// <summary>Output rows reordered: row i of the result is row perm[i] of this (for the HF Q/K layout).</summary>
    public QuantizedWeights PermuteRows(IReadOnlyList<int> perm)
    {
        if (perm.Count != OutFeatures) throw new ArgumentException("permutation length differs from the output features");
        var q = new byte[Q.Length];
        var s = new ushort[Scales.Length];
        var z = new byte[Zeros.Length];
        for (var i = 0; i < OutFeatures; i++)
        {
            Array.Copy(Q, (long)perm[i] * InFeatures, q, (long)i * InFeatures, InFeatures);
            Array.Copy(Scales, (long)perm[i] * Groups, s, (long)i * Groups, Groups);
            Array.Copy(Zeros, (long)perm[i] * Groups, z, (long)i * Groups, Groups);
        }
        return new QuantizedWeights(OutFeatures, InFeatures, GroupSize, Bits, q, s, z);
    }
}
