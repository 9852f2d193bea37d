using AwqRuntime.Numerics;
using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.Awq;

/// <summary>
/// One linear in AutoAWQ's GEMM layout (reference §2.1), for in_features K, out_features N, group G:
///   qweight int32 [K, N/8]  — q transposed to [K, N], 8 nibbles per word along N in AWQ order
///   qzeros  int32 [K/G, N/8] — zero points, same packing
///   scales  fp16  [K/G, N]
/// With AwqRuntime's ceil-groups extension, K/G and N/8 round up (short last group, zero padding
/// nibbles) and scales keep the true N.
/// </summary>
public sealed record AwqGemmTensors(int[] QWeight, int[] QZeros, ushort[] Scales, int InFeatures, int OutFeatures, int GroupSize)
{
    public int Groups => (InFeatures + GroupSize - 1) / GroupSize;
    public int PackedOut => (OutFeatures + 7) / 8;
    public long[] QWeightShape => [InFeatures, PackedOut];
    public long[] QZerosShape => [Groups, PackedOut];
    public long[] ScalesShape => [Groups, OutFeatures];

    /// <summary>True when the shapes fit AutoAWQ's layout without the extension.</summary>
    public static bool IsStandard(int inFeatures, int outFeatures, int groupSize) =>
        inFeatures % groupSize == 0 && outFeatures % 8 == 0;

    public static AwqGemmTensors FromWeights(Int4Weights w)
    {
        int n = w.OutFeatures, k = w.InFeatures, g = w.Groups, words = (n + 7) / 8;
        // Transpose q to [K, N] and pack along N, a slab of input rows at a time so the int32
        // staging buffer stays small (a whole transposed copy would be 4 bytes per weight).
        var qweight = new int[(long)k * words];
        const int slab = 256;
        var staging = new int[(long)Math.Min(slab, k) * n];
        for (var k0 = 0; k0 < k; k0 += slab)
        {
            var rows = Math.Min(slab, k - k0);
            for (var row = 0; row < n; row++)
                for (var col = 0; col < rows; col++)
                    staging[(long)col * n + row] = w.Q[(long)row * k + k0 + col];
            Int4Packing.Pack(staging.AsSpan(0, rows * n), rows, n, PackOrder.Awq, qweight.AsSpan(k0 * words, rows * words));
        }
        var zerosT = new int[(long)g * n];
        var scalesT = new ushort[(long)g * n];
        for (var row = 0; row < n; row++)
            for (var gi = 0; gi < g; gi++)
            {
                zerosT[(long)gi * n + row] = w.Zeros[(long)row * g + gi];
                scalesT[(long)gi * n + row] = Fp16.FromSingle(w.Scales[(long)row * g + gi]);
            }
        return new AwqGemmTensors(qweight, Int4Packing.Pack(zerosT, g, n, PackOrder.Awq), scalesT, k, n, w.GroupSize);
    }

    public Int4Weights ToWeights()
    {
        int n = OutFeatures, k = InFeatures, g = Groups;
        var transposed = Int4Packing.Unpack(QWeight, k, n, PackOrder.Awq);
        var zerosT = Int4Packing.Unpack(QZeros, g, n, PackOrder.Awq);
        var q = new byte[(long)n * k];
        for (var col = 0; col < k; col++)
            for (var row = 0; row < n; row++)
                q[(long)row * k + col] = (byte)transposed[(long)col * n + row];
        var zeros = new byte[(long)n * g];
        var scales = new float[(long)n * g];
        for (var gi = 0; gi < g; gi++)
            for (var row = 0; row < n; row++)
            {
                zeros[(long)row * g + gi] = (byte)zerosT[(long)gi * n + row];
                scales[(long)row * g + gi] = Fp16.ToSingle(Scales[(long)gi * n + row]);
            }
        return new Int4Weights(n, k, GroupSize, 4, q, scales, zeros);
    }
}
