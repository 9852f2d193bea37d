namespace AwqRuntime.Model;

/// <summary>
/// A linear layer y[rows, Out] = x[rows, In] · Wᵀ whose weights may be stored in any format
/// (fp32, fp16, group-wise INT4 ...). The forward pass only sees this interface, which is what lets
/// the same model code run the FP32 reference and the AWQ INT4 model.
/// </summary>
public interface ILinear
{
    int InFeatures { get; }
    int OutFeatures { get; }

    /// <summary>Bytes the weights occupy in memory (scales and zero points included).</summary>
    long WeightBytes { get; }

    void Forward(ReadOnlySpan<float> x, int rows, Span<float> y);
}
