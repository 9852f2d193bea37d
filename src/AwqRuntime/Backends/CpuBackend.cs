using AwqRuntime.Model;
using AwqRuntime.Native;

namespace AwqRuntime.Backends;

/// <summary>A tensor in host memory: a float array (its own, or one the caller lends it).</summary>
public sealed class CpuTensor(float[] data) : DeviceTensor
{
    public float[] Data { get; } = data;
    public override DeviceKind Device => DeviceKind.Cpu;
    public override long Length => Data.LongLength;
}

/// <summary>
/// The CPU backend: the native kernels of awq_kernels.h (scalar, AVX2, AVX-512, the library's thread
/// pool) over host arrays. Stateless; <see cref="Instance"/> is the one every CPU model shares.
/// </summary>
public sealed class CpuBackend : IComputeBackend
{
    public static CpuBackend Instance { get; } = new();

    private CpuBackend()
    {
    }

    public string Name => "cpu";
    public DeviceKind Device => DeviceKind.Cpu;

    public DeviceTensor Allocate(long length)
    {
        if (length < 0 || length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(length), $"{length} floats do not fit one host array");
        return new CpuTensor(new float[length]);
    }

    /// <summary>A host array seen as a tensor, without copying (the quantizer's cached activations).</summary>
    public static TensorView Wrap(float[] data) => new CpuTensor(data).View();

    /// <summary>The memory of a host tensor view.</summary>
    public static Span<float> Span(TensorView v)
    {
        if (v.Tensor is not CpuTensor t) throw new InvalidOperationException($"a tensor on {v.Device} was given to the CPU backend");
        return t.Data.AsSpan(checked((int)v.Offset), checked((int)v.Length));
    }

    public void Upload(ReadOnlySpan<float> source, TensorView destination) => source.CopyTo(Span(destination));

    public void Download(TensorView source, Span<float> destination) => Span(source).CopyTo(destination);

    public ReadOnlySpan<float> Read(TensorView source) => Span(source);

    public void Copy(TensorView source, TensorView destination) => Span(source).CopyTo(Span(destination));

    public void Embed(TokenEmbedding table, ReadOnlySpan<int> tokens, TensorView x)
    {
        var d = table.Dim;
        var xs = Span(x);
        for (var i = 0; i < tokens.Length; i++) table.CopyRow(tokens[i], xs.Slice(i * d, d));
    }

    public void RmsNorm(TensorView x, float[] weight, int rows, int dim, float eps, TensorView y) =>
        Kernels.RmsNorm(Span(x), weight, rows, dim, eps, Span(y));

    public void AddRmsNorm(TensorView x, TensorView delta, float[] weight, int rows, int dim, float eps, TensorView y) =>
        Kernels.AddRmsNorm(Span(x), Span(delta), weight, rows, dim, eps, Span(y));

    public void Linear(ILinear linear, TensorView x, int rows, TensorView y, float[]? bias = null)
    {
        var ys = Span(y);
        linear.Forward(Span(x), rows, ys);
        if (bias == null) return;
        var n = bias.Length;
        for (var r = 0; r < rows; r++) VectorOps.AddInPlace(ys.Slice(r * n, n), bias);
    }

    public void Linear(ILinear linear, TensorView x, int rows, Span<float> y) => linear.Forward(Span(x), rows, y);

    public void Rope(TensorView x, int rows, int heads, int headDim, int ropeDim, ReadOnlySpan<int> positions, float theta, float[] freqFactors) =>
        Kernels.Rope(Span(x), rows, heads, headDim, ropeDim, positions, theta, freqFactors);

    public void Attention(TensorView q, KvCache cache, int layer, int rows, int nPast, int heads, int kvHeads, int headDim, int window, TensorView output) =>
        Kernels.Attention(Span(q), Span(cache.Keys(layer)), Span(cache.Values(layer)), rows, nPast, cache.Allocated, heads, kvHeads, headDim, window, Span(output));

    public void SiluMul(TensorView gate, TensorView up, TensorView output) =>
        Kernels.SiluMul(Span(gate), Span(up), checked((int)output.Length), Span(output));

    public void AddInPlace(TensorView x, TensorView y) => VectorOps.AddInPlace(Span(x), Span(y));
}
