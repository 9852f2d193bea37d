using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// W8A8 with dynamic activation quantization (PyTorch's torch.ao.quantization.quantize_dynamic for
/// nn.Linear: INT8 weights fixed at conversion, activations quantized per call): every linear's
/// weights become INT8, symmetric per output channel (scale = max|w[n,:]|/127), and run as
/// <see cref="Int8Linear"/>, which quantizes each activation row to UINT8 with its own min/max scale
/// and zero point and multiplies INT8×INT8→INT32 with the scales applied after. Reads no calibration data.
/// </summary>
internal sealed class W8A8DynamicMethod : IQuantizationMethod
{
    public string Name => QuantMethod.W8A8Dynamic.Name();

    public bool NeedsActivations => false;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step) =>
        new(layer, [], new Dictionary<string, double>(), [], TimeSpan.Zero);

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear) => Int8Linear.Quantize(linear.Weight, linear.OutFeatures, linear.InFeatures);
}
