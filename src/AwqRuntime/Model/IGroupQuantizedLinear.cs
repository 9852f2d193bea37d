using AwqRuntime.Quantization;

namespace AwqRuntime.Model;

/// <summary>
/// A linear holding group-wise asymmetric integer weights (<see cref="Int4Linear"/> at 4 bits,
/// <see cref="NBitLinear"/> at 2, 3 and 8): what saving, journalling and export read from either.
/// </summary>
public interface IGroupQuantizedLinear : ILinear
{
    int Bits { get; }
    int GroupSize { get; }

    /// <summary>The weights unpacked again (for saving and inspection); exact, since packing is lossless.</summary>
    QuantizedWeights ToWeights();
}

/// <summary>The runtime linear for group-wise weights of any supported width.</summary>
public static class GroupQuantizedLinear
{
    /// <summary>Bit widths the runtime runs: 4 on the INT4 kernels, 2, 3 and 8 on awq_wna16_gemm.</summary>
    public static readonly IReadOnlyList<int> SupportedBits = [2, 3, 4, 8];

    /// <summary>An <see cref="Int4Linear"/> for 4-bit weights (on <paramref name="kernel"/>), an <see cref="NBitLinear"/> otherwise.</summary>
    public static IGroupQuantizedLinear Create(QuantizedWeights w, Int4Kernel kernel = Int4Kernel.W4A16) =>
        w.Bits == 4 ? new Int4Linear(w, kernel) : new NBitLinear(w);
}
