namespace AwqRuntime.Backends;

/// <summary>Where a tensor's memory lives.</summary>
public enum DeviceKind
{
    /// <summary>Host memory, run by the CPU kernels.</summary>
    Cpu,

    /// <summary>A CUDA device's memory.</summary>
    Cuda,
}

/// <summary>
/// A flat fp32 buffer owned by one <see cref="IComputeBackend"/>, which alone reads and writes it:
/// activations, the KV cache. It knows where it lives (<see cref="Device"/>); code that runs the model
/// holds views (<see cref="TensorView"/>) and hands them to the backend's operations, never touching
/// the memory itself.
/// </summary>
public abstract class DeviceTensor : IDisposable
{
    public abstract DeviceKind Device { get; }

    /// <summary>Length in floats.</summary>
    public abstract long Length { get; }

    /// <summary>All of it.</summary>
    public TensorView View() => new(this, 0, Length);

    /// <summary>Floats <paramref name="offset"/> .. offset + length.</summary>
    public TensorView View(long offset, long length) => View().Slice(offset, length);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A contiguous range of a <see cref="DeviceTensor"/>: what backend operations take.</summary>
public readonly record struct TensorView
{
    public TensorView(DeviceTensor tensor, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (offset < 0 || length < 0 || offset > tensor.Length - length)
            throw new ArgumentOutOfRangeException(nameof(length), $"view [{offset}, {offset} + {length}) is outside a tensor of {tensor.Length} floats");
        Tensor = tensor;
        Offset = offset;
        Length = length;
    }

    public DeviceTensor Tensor { get; }
    public long Offset { get; }
    public long Length { get; }
    public DeviceKind Device => Tensor.Device;

    public TensorView Slice(long offset, long length) => new(Tensor, Offset + offset, length);

    public TensorView Slice(long offset) => Slice(offset, Length - offset);
}
