using AwqRuntime.Native;

namespace AwqRuntime.Model;

/// <summary>An fp32 linear layer, [Out, In] row-major (nn.Linear's layout), on the native FP32 GEMM.</summary>
public sealed class FloatLinear : ILinear
{
    public FloatLinear(float[] weight, int outFeatures, int inFeatures)
    {
        if ((long)outFeatures * inFeatures != weight.Length)
            throw new ArgumentException($"weight has {weight.Length} elements, expected {outFeatures}x{inFeatures}");
        Weight = weight;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
    }

    /// <summary>The weights, [Out, In]. Mutable on purpose: AWQ folds scales into them in place.</summary>
    public float[] Weight { get; }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public long WeightBytes => (long)Weight.Length * sizeof(float);

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y) =>
        Kernels.F32Gemm(x, rows, InFeatures, Weight, OutFeatures, y);
}
