using AwqRuntime.Native;
using AwqRuntime.Quantization;

namespace AwqRuntime.Model;

/// <summary>
/// A group-wise INT4 linear on the native W4A16 kernel, or the W4A8 one (<see cref="Int4Kernel"/>,
/// which reads the same packed weights). Weights are held in the kernel's layout (<see cref="KernelInt4"/>),
/// repacked once at load from whatever layout the checkpoint uses (<see cref="Int4Layouts"/>).
/// Nothing is dequantized to fp32.
/// </summary>
public sealed class Int4Linear : IGroupQuantizedLinear
{
    private readonly KernelInt4 _w;

    /// <summary>The packed weights in the kernel layout, as a device backend uploads them.</summary>
    internal KernelInt4 KernelWeights => _w;
    private readonly W4A8TileTables? _tiles; // made when the kernel is W4A8

    public Int4Linear(QuantizedWeights w, Int4Kernel kernel = Int4Kernel.W4A16)
    {
        _w = Int4Layouts.ToKernel(w);
        OutFeatures = w.OutFeatures;
        InFeatures = w.InFeatures;
        GroupSize = w.GroupSize;
        Groups = w.Groups;
        Kernel = kernel;
        _tiles = TilesFor(kernel);
    }

    private Int4Linear(Int4Linear other, Int4Kernel kernel)
    {
        _w = other._w;
        OutFeatures = other.OutFeatures;
        InFeatures = other.InFeatures;
        GroupSize = other.GroupSize;
        Groups = other.Groups;
        Kernel = kernel;
        _tiles = TilesFor(kernel); // a new kernel (WithKernel returns this for the same one)
    }

    private W4A8TileTables? TilesFor(Int4Kernel kernel) => kernel != Int4Kernel.W4A8
        ? null
        : Kernels.W4A8Prepare(_w.Packed, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(_w.Scales), _w.Zeros,
                              OutFeatures, InFeatures, GroupSize);

    /// <summary>The product <see cref="Forward"/> runs.</summary>
    public Int4Kernel Kernel { get; }

    /// <summary>The same weights (shared, not copied) on another kernel.</summary>
    public Int4Linear WithKernel(Int4Kernel kernel) => kernel == Kernel ? this : new Int4Linear(this, kernel);

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public int GroupSize { get; }
    public int Groups { get; }
    public int Bits => 4;

    /// <summary>The weights unpacked again (for saving and inspection); exact, since packing is lossless.</summary>
    public QuantizedWeights ToWeights() => Int4Layouts.FromKernel(_w, OutFeatures, InFeatures, GroupSize);

    public long WeightBytes => _w.Packed.Length + _w.Scales.Length * 2L + _w.Zeros.Length;

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        var scales = System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(_w.Scales);
        if (Kernel == Int4Kernel.W4A8)
            Kernels.W4A8GemmF32(x, rows, InFeatures, _w.Packed, scales, _w.Zeros, _tiles!, OutFeatures, GroupSize, y);
        else
            Kernels.W4A16Gemm(x, rows, InFeatures, _w.Packed, scales, _w.Zeros, OutFeatures, GroupSize, y);
    }
}
