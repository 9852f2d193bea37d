using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// One way of turning a block's full-precision linears into quantized ones. The pipeline
/// (<see cref="AwqQuantizer"/>) streams the blocks through it: it loads block l in fp32, runs the
/// calibration forward when the method asks for activations (<see cref="NeedsActivations"/>),
/// lets the method change the full-precision weights (<see cref="Prepare"/>: AWQ's scales and
/// clipping), then rounds each linear (<see cref="QuantizeLinear"/>). Calibration inputs always
/// come from the unquantized model. A new method (GPTQ, W8A8, QAT) is a new class here.
/// </summary>
internal interface IQuantizationMethod
{
    /// <summary>"awq", "rtn", "gptq", ...: the --method name, and what checkpoints record.</summary>
    string Name { get; }

    /// <summary>True when <see cref="Prepare"/> reads calibration activations (RTN does not).</summary>
    bool NeedsActivations { get; }

    /// <summary>
    /// Changes the block's full-precision weights before rounding; <paramref name="calibration"/> holds the
    /// block's cached inputs when activations were captured (always when <see cref="NeedsActivations"/>),
    /// else null. <paramref name="searched"/> is this block's report from an earlier run to reuse, or null.
    /// </summary>
    BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step);

    /// <summary>The quantized replacement of one (prepared) full-precision linear.</summary>
    ILinear QuantizeLinear(LinearKind kind, FloatLinear linear);
}
