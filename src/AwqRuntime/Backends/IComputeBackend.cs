using AwqRuntime.Model;

namespace AwqRuntime.Backends;

/// <summary>
/// The compute seam: every operation the LLaMA-family forward pass performs, over tensors this
/// backend allocated (<see cref="DeviceTensor"/>). The forward pass (<see cref="LlamaForward"/>,
/// <see cref="LlamaModel.Forward"/>) and the KV cache (<see cref="KvCache"/>) are written against this
/// interface only, so a second backend (CUDA, with device-resident weights and cache) is a new class,
/// not an edit of the model code. Weights are passed as the model's own objects (norm vectors, biases,
/// <see cref="ILinear"/>s); a device backend keeps its copies of them, uploaded once. Shapes are
/// [rows, features] row-major, as in awq_kernels.h; a decode step of several sequences is more rows
/// through the same calls, with one attention call per sequence and cache.
/// </summary>
public interface IComputeBackend
{
    /// <summary>"cpu", "cuda:0".</summary>
    string Name { get; }

    DeviceKind Device { get; }

    /// <summary>A zero-filled tensor of <paramref name="length"/> floats on this backend.</summary>
    DeviceTensor Allocate(long length);

    /// <summary>Host → tensor.</summary>
    void Upload(ReadOnlySpan<float> source, TensorView destination);

    /// <summary>Tensor → host.</summary>
    void Download(TensorView source, Span<float> destination);

    /// <summary>
    /// The tensor's contents readable on the host: the memory itself on the CPU, a copy elsewhere
    /// (for observers such as calibration capture, which run on the host).
    /// </summary>
    ReadOnlySpan<float> Read(TensorView source);

    void Copy(TensorView source, TensorView destination);

    /// <summary>x[i, :] = table[tokens[i], :].</summary>
    void Embed(TokenEmbedding table, ReadOnlySpan<int> tokens, TensorView x);

    /// <summary>y = rmsnorm(x) * weight over rows of <paramref name="dim"/>.</summary>
    void RmsNorm(TensorView x, float[] weight, int rows, int dim, float eps, TensorView y);

    /// <summary>The residual add and the next RMSNorm in one pass: x += delta, then y = rmsnorm(x) * weight (y is other memory).</summary>
    void AddRmsNorm(TensorView x, TensorView delta, float[] weight, int rows, int dim, float eps, TensorView y);

    /// <summary>y[rows, out] = x[rows, in] · Wᵀ (+ bias when given).</summary>
    void Linear(ILinear linear, TensorView x, int rows, TensorView y, float[]? bias = null);

    /// <summary>The same with the result on the host (the classifier's logits).</summary>
    void Linear(ILinear linear, TensorView x, int rows, Span<float> y);

    /// <summary>In-place RoPE of x [rows, heads, headDim] at <paramref name="positions"/>, with optional per-pair frequency factors.</summary>
    void Rope(TensorView x, int rows, int heads, int headDim, int ropeDim, ReadOnlySpan<int> positions, float theta, float[] freqFactors);

    /// <summary>
    /// Causal GQA attention of q [rows, heads, headDim] at positions nPast.. against layer
    /// <paramref name="layer"/> of <paramref name="cache"/> (whose rows up to nPast + rows are filled),
    /// with a sliding window when <paramref name="window"/> &gt; 0; result [rows, heads·headDim].
    /// </summary>
    void Attention(TensorView q, KvCache cache, int layer, int rows, int nPast, int heads, int kvHeads, int headDim, int window, TensorView output);

    /// <summary>output = silu(gate) · up over n elements (output may be gate).</summary>
    void SiluMul(TensorView gate, TensorView up, TensorView output);

    /// <summary>x += y (residual connections).</summary>
    void AddInPlace(TensorView x, TensorView y);
}
