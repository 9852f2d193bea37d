using AwqRuntime.Numerics;
using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.Awq;

/// <summary>
/// One linear's tensors in AutoAWQ's GEMM layout (AutoAWQ awq/modules/linear/gemm.py, WQLinear_GEMM),
/// for in_features K, out_features N, group G (conversions: <see cref="Int4Layouts"/>):
///   qweight int32 [K, N/8]  — q transposed to [K, N], 8 nibbles per word along N in AWQ order
///   qzeros  int32 [K/G, N/8] — zero points, same packing
///   scales  fp16  [K/G, N]
/// With AwqRuntime's ceil-groups extension, K/G and N/8 round up (short last group, zero padding
/// nibbles) and scales keep the true N.
/// </summary>
public sealed record AwqGemmTensors(int[] QWeight, int[] QZeros, ushort[] Scales, int InFeatures, int OutFeatures, int GroupSize)
{
    public int Groups => QuantGroups.Count(InFeatures, GroupSize);
    public int PackedOut => (OutFeatures + 7) / 8;
    public long[] QWeightShape => [InFeatures, PackedOut];
    public long[] QZerosShape => [Groups, PackedOut];
    public long[] ScalesShape => [Groups, OutFeatures];

    /// <summary>True when the shapes fit AutoAWQ's layout without the extension.</summary>
    public static bool IsStandard(int inFeatures, int outFeatures, int groupSize) =>
        inFeatures % groupSize == 0 && outFeatures % 8 == 0;
}
