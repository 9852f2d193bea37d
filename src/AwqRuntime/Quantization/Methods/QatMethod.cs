using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// The block stage of quantization-aware training: AWQ exactly (<see cref="AwqMethod"/>: scales,
/// clipping, round to nearest), keeping each linear's prepared full-precision weights — the latent
/// weights the training (<see cref="Qat.QatTrainer"/>, run by the pipeline once every block is done)
/// starts from.
/// </summary>
internal sealed class QatMethod(LlamaConfig model, AwqConfig config) : IQuantizationMethod
{
    private readonly AwqMethod _awq = new(model, config);
    private readonly List<Dictionary<LinearKind, float[]>> _prepared = [];
    private int _layer = -1;

    public string Name => QuantMethod.Qat.Name();

    public bool NeedsActivations => true;

    /// <summary>Per block, the prepared fp32 weights of each linear that was rounded.</summary>
    public IReadOnlyList<IReadOnlyDictionary<LinearKind, float[]>> Prepared => _prepared;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step)
    {
        if (layer != _prepared.Count) throw new InvalidOperationException($"quantization-aware training prepares blocks in order (got block {layer} after {_prepared.Count})");
        _layer = layer;
        _prepared.Add([]);
        return _awq.Prepare(layer, block, calibration, searched, step);
    }

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear)
    {
        _prepared[_layer][kind] = (float[])linear.Weight.Clone();
        return _awq.QuantizeLinear(kind, linear);
    }
}
