using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// Round-to-nearest: every linear rounded group-wise as it is (AutoAWQ's pseudo_quantize_tensor with
/// no search and no clip) — the baseline AWQ is measured against. Needs no calibration data.
/// </summary>
internal sealed class RtnMethod(AwqConfig config) : IQuantizationMethod
{
    public string Name => "rtn";

    public bool NeedsActivations => false;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step) =>
        new(layer, [], new Dictionary<string, double>(), [], TimeSpan.Zero);

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear) => Round(linear, config);

    /// <summary>Group-wise integer rounding of a linear into the W4A16 kernel's layout.</summary>
    internal static Int4Linear Round(FloatLinear l, AwqConfig config) =>
        new(GroupQuantizer.Quantize(l.Weight, l.OutFeatures, l.InFeatures, config.GroupSize, config.WBit));
}
