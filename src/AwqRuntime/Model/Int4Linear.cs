using AwqRuntime.Native;
using AwqRuntime.Quantization;

namespace AwqRuntime.Model;

/// <summary>
/// A group-wise INT4 linear on the native W4A16 kernel. Weights are held in the kernel's layout
/// (<see cref="KernelInt4"/>), repacked once at load from whatever layout the checkpoint uses
/// (<see cref="Int4Layouts"/>). Nothing is dequantized to fp32.
/// </summary>
public sealed class Int4Linear : ILinear
{
    private readonly KernelInt4 _w;

    public Int4Linear(QuantizedWeights w)
    {
        _w = Int4Layouts.ToKernel(w);
        OutFeatures = w.OutFeatures;
        InFeatures = w.InFeatures;
        GroupSize = w.GroupSize;
        Groups = w.Groups;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public int GroupSize { get; }
    public int Groups { get; }
    public int Bits => 4;

    /// <summary>The weights unpacked again (for saving and inspection); exact, since packing is lossless.</summary>
    public QuantizedWeights ToWeights() => Int4Layouts.FromKernel(_w, OutFeatures, InFeatures, GroupSize);

    public long WeightBytes => _w.Packed.Length + _w.Scales.Length * 2L + _w.Zeros.Length;

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y) =>
        Kernels.W4A16Gemm(x, rows, InFeatures, _w.Packed, System.Runtime.InteropServices.MemoryMarshal.Cast<ushort, Half>(_w.Scales), _w.Zeros, OutFeatures, GroupSize, y);
}
