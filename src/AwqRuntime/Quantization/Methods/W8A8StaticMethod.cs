using System.Diagnostics;
using AwqRuntime.Model;
using AwqRuntime.Quantization.Observers;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// W8A8 with static activation quantization (PyTorch's post-training static quantization: observers
/// calibrate, then convert fixes the parameters): weights INT8 symmetric per output channel as in
/// <see cref="W8A8DynamicMethod"/>; each linear's input gets one asymmetric UINT8 scale and zero point
/// chosen from the block's calibration inputs by the configured observer (<see cref="ActivationObserver"/>),
/// stored in the checkpoint and used as they are at inference (no statistics computed per call).
/// </summary>
internal sealed class W8A8StaticMethod(AwqConfig config) : IQuantizationMethod
{
    private readonly Dictionary<LinearKind, ActivationQuantParams> _inputs = new();

    public string Name => QuantMethod.W8A8Static.Name();

    public bool NeedsActivations => true;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step)
    {
        var cal = calibration ?? throw new InvalidOperationException("static W8A8 needs the block's calibration activations");
        var clock = Stopwatch.StartNew();
        step?.Invoke($"observe ({config.Observer.Name()})", 1, 6);
        _inputs.Clear();
        var byInput = new Dictionary<float[], ActivationQuantParams>(ReferenceEqualityComparer.Instance);
        foreach (var kind in LinearKinds.All)
        {
            var x = cal.InputOf(kind);
            if (!byInput.TryGetValue(x, out var p)) byInput[x] = p = ActivationObserver.Observe(x, config.Observer);
            _inputs[kind] = p;
        }
        return new BlockReport(layer, [], new Dictionary<string, double>(), [], clock.Elapsed);
    }

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear) =>
        Int8Linear.Quantize(linear.Weight, linear.OutFeatures, linear.InFeatures).WithStaticInput(_inputs[kind]);
}
