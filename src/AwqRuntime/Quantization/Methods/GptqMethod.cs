using System.Diagnostics;
using AwqRuntime.Model;
using AwqRuntime.Quantization.Gptq;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// GPTQ (Frantar et al., arXiv 2210.17323; IST-DASLab/gptq): each linear rounded group-wise to INT4
/// with <see cref="GptqRounding"/>, using the Hessian H = 2XᵀX/n of the inputs the block calibration
/// captured (<see cref="Hessian"/>; q/k/v and gate/up share one input, so one Hessian). As everywhere
/// in this pipeline the inputs come from the full-precision model (gptq.py's llama.py instead feeds each
/// block the output of the blocks already quantized). Saved in the AutoAWQ GEMM layout like AWQ and RTN.
/// </summary>
internal sealed class GptqMethod(AwqConfig config) : IQuantizationMethod
{
    private readonly Dictionary<LinearKind, double[]> _hessians = new();
    private int _layer;

    public string Name => QuantMethod.Gptq.Name();

    public bool NeedsActivations => true;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step)
    {
        var clock = Stopwatch.StartNew();
        step?.Invoke("hessians", 1, 6);
        CollectHessians(layer, calibration ?? throw new InvalidOperationException("GPTQ needs the block's calibration activations"));
        return new BlockReport(layer, [], new Dictionary<string, double>(), [], clock.Elapsed);
    }

    /// <summary>The Hessian of every linear's cached input (computed once per distinct input), for <see cref="QuantizeLinear"/>.</summary>
    internal void CollectHessians(int layer, BlockCalibration calibration)
    {
        _layer = layer;
        _hessians.Clear();
        var byInput = new Dictionary<float[], double[]>(ReferenceEqualityComparer.Instance);
        foreach (var kind in LinearKinds.All)
        {
            if (config.ModulesToNotConvert.Contains(kind.Name())) continue;
            var x = calibration.InputOf(kind);
            if (!byInput.TryGetValue(x, out var h))
            {
                var k = (int)(x.Length / calibration.Tokens);
                h = Hessian.FromInputs(x, calibration.Tokens, k);
                byInput[x] = h;
            }
            _hessians[kind] = h;
        }
    }

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear)
    {
        var h = _hessians.GetValueOrDefault(kind) ?? throw new InvalidOperationException($"no Hessian for {kind.Name()}: Prepare was not run on this block");
        return GroupQuantizedLinear.Create(GptqRounding.Quantize(linear.Weight, linear.OutFeatures, linear.InFeatures, h, config.GroupSize, config.BitsFor(kind),
            config.ActOrder, config.PercDamp, config.GptqBlockSize, LlamaTensorNames.LinearModule(_layer, kind)));
    }
}
