using System.Runtime.InteropServices;
using AwqRuntime.Native;

namespace AwqRuntime.Model;

/// <summary>
/// An fp16-weight linear layer [Out, In] on the native fp16 GEMM (fp32 activations and accumulation):
/// what AutoAWQ checkpoints keep unquantized (lm_head, modules_to_not_convert) at half the memory.
/// </summary>
public sealed class HalfLinear : ILinear
{
    public HalfLinear(ushort[] weight, int outFeatures, int inFeatures)
    {
        if ((long)outFeatures * inFeatures != weight.Length)
            throw new ArgumentException($"weight has {weight.Length} elements, expected {outFeatures}x{inFeatures}");
        Weight = weight;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
    }

    /// <summary>fp16 bits, [Out, In].</summary>
    public ushort[] Weight { get; }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public long WeightBytes => (long)Weight.Length * sizeof(ushort);

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y) =>
        Kernels.F16Gemm(x, rows, InFeatures, MemoryMarshal.Cast<ushort, Half>(Weight.AsSpan()), OutFeatures, y);

    /// <summary>The weights widened to fp32 (for exporters).</summary>
    public float[] ToFloat32()
    {
        var f = new float[Weight.Length];
        Kernels.Fp16ToFp32(Weight, f);
        return f;
    }

    /// <summary>An fp16 copy of an fp32 linear (values beyond ±65504 are an error, not Inf).</summary>
    public static HalfLinear From(FloatLinear l, string name) => new(Numerics.Fp16Encoder.Encode(l.Weight, name), l.OutFeatures, l.InFeatures);
}
