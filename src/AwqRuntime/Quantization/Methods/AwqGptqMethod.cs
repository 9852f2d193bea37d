using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// AWQ then GPTQ (the combination the AWQ paper evaluates, Lin et al. MLSys 2024 §5, "AWQ + GPTQ"):
/// AWQ's per-channel scale search and folding (<see cref="AwqMethod"/>) first, then — when clipping is
/// on — AWQ's clip search, and the folded (and clipped) weights are rounded by GPTQ instead of round-to-
/// nearest, with Hessians of the inputs as divided by the folded scales (the inputs the folded weights
/// now see). `--no-clip` leaves clipping out (GPTQ's error feedback then starts from the unclipped weights).
/// </summary>
internal sealed class AwqGptqMethod(LlamaConfig model, AwqConfig config) : IQuantizationMethod
{
    private readonly AwqMethod _awq = new(model, config);
    private readonly GptqMethod _gptq = new(config);

    public string Name => QuantMethod.AwqGptq.Name();

    public bool NeedsActivations => true;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step)
    {
        var report = _awq.Prepare(layer, block, calibration, searched, step);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _gptq.CollectHessians(layer, calibration!);
        return report with { Elapsed = report.Elapsed + clock.Elapsed };
    }

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear) => _gptq.QuantizeLinear(kind, linear);
}
