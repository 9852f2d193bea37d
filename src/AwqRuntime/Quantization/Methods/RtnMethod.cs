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

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear) => Round(kind, linear, config);

    /// <summary>Group-wise integer rounding of a linear at its kind's width (config.BitsFor), onto the runtime linear of that width.</summary>
    internal static IGroupQuantizedLinear Round(LinearKind kind, FloatLinear l, AwqConfig config) =>
        GroupQuantizedLinear.Create(GroupQuantizer.Quantize(l.Weight, l.OutFeatures, l.InFeatures, config.GroupSize, config.BitsFor(kind)));
}
