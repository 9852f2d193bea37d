using System.Numerics;

namespace AwqRuntime.Model;

/// <summary>
/// The load-time scan for NaN and ±Inf in float weights: one that slips in (a bad conversion, a
/// corrupt download) poisons every logit downstream without an error, so loading refuses it, naming
/// the tensor, unless the caller opts out (--allow-nonfinite). Vectorised; cheap next to the read.
/// </summary>
public static class NonFiniteCheck
{
    /// <summary>Index of the first NaN or infinity, or −1.</summary>
    public static long FirstNonFinite(ReadOnlySpan<float> values)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && values.Length >= Vector<float>.Count)
        {
            var n = Vector<float>.Count;
            var vs = System.Runtime.InteropServices.MemoryMarshal.Cast<float, Vector<float>>(values);
            for (var k = 0; k < vs.Length; k++)
            {
                // x − x is 0 for every finite x and NaN for NaN and ±Inf.
                var v = vs[k];
                if (!Vector.EqualsAll(v - v, Vector<float>.Zero)) break;
                i += n;
            }
        }
        for (; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>Index of the first fp16 NaN or infinity (exponent bits all ones), or −1.</summary>
    public static long FirstNonFinite(ReadOnlySpan<ushort> fp16Bits)
    {
        for (var i = 0; i < fp16Bits.Length; i++)
            if ((fp16Bits[i] & 0x7C00) == 0x7C00) return i;
        return -1;
    }

    public static InvalidDataException Error(string path, string tensor, long index, float value) =>
        new($"{path}: tensor '{tensor}' holds {(float.IsNaN(value) ? "NaN" : value > 0 ? "+Inf" : "-Inf")} at element {index}; " +
            "the checkpoint is corrupt (pass --allow-nonfinite to load it anyway)");
}
