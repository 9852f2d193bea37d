using System.Numerics;
using System.Runtime.InteropServices;

namespace AwqRuntime.Model;

/// <summary>Element-wise helpers too small to be worth a native call.</summary>
internal static class VectorOps
{
    /// <summary>a[i] += b[i] (residual connections).</summary>
    public static void AddInPlace(Span<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length < a.Length) throw new ArgumentException("second operand shorter than the first");
        var i = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var va = MemoryMarshal.Cast<float, Vector<float>>(a);
            var vb = MemoryMarshal.Cast<float, Vector<float>>(b[..a.Length]);
            for (var j = 0; j < va.Length; j++) va[j] += vb[j];
            i = va.Length * Vector<float>.Count;
        }
        for (; i < a.Length; i++) a[i] += b[i];
    }
}
