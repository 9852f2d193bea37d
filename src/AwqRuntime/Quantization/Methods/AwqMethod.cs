using System.Diagnostics;
using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>
/// Activation-aware weight quantization (Lin et al., "AWQ", MLSys 2024; AutoAWQ
/// awq/quantize/quantizer.py): per block, search each of the family's scaling groups for the
/// per-input-channel scales that minimise the inspected module's output error once rounded
/// (<see cref="ScaleSearch"/>), fold them in (<see cref="ScaleFolding"/>), then search and apply
/// weight clipping on the linears the family clips (<see cref="ClipSearch"/>), then round to nearest.
/// AutoAWQ searches every group on the original weights and inputs before applying any of them.
/// </summary>
internal sealed class AwqMethod(LlamaConfig model, AwqConfig config) : IQuantizationMethod
{
    // Allocated on the first block and reused by the others (same shapes each time).
    private SearchWorkspace? _workspace;

    public string Name => "awq";

    public bool NeedsActivations => true;

    public BlockReport Prepare(int layer, LlamaBlock block, BlockCalibration? calibration, BlockReport? searched, Action<string, int, int>? step)
    {
        var cal = calibration ?? throw new InvalidOperationException("AWQ needs the block's calibration activations");
        var clock = Stopwatch.StartNew();
        var work = _workspace ??= new SearchWorkspace(model, cal.Tokens);
        var results = new List<ScaleSearchResult>();
        var skipped = new List<string>();
        var clipErrors = new Dictionary<string, double>();
        if (searched != null)
        {
            results.AddRange(searched.Scales);
            skipped.AddRange(searched.SkippedGroups);
        }
        else
        {
            var specs = model.Family.ScalingGroups(model, skipped);
            for (var i = 0; i < specs.Count; i++)
            {
                step?.Invoke($"search {specs[i].Name}", 1 + i, 6);
                var group = cal.Bind(specs[i], block);
                var linears = group.Linears.Select(k => (FloatLinear)block[k]).ToArray();
                results.Add(ScaleSearch.Run(group, linears, config, work));
            }
        }
        foreach (var r in results)
        {
            ScaleFolding.Apply(block, r);
            ScaleFolding.DivideColumns(cal.InputOf(r.Linears[0]), r.Scales);
        }
        if (config.ApplyClip)
        {
            step?.Invoke("clip", 5, 6);
            foreach (var kind in LinearKinds.All)
            {
                if (!model.Family.IsClipped(kind) || config.ModulesToNotConvert.Contains(kind.Name())) continue;
                clipErrors[kind.Name()] = ClipSearch.Run(kind, (FloatLinear)block[kind], cal.InputOf(kind), config, work, cal.Calibration.SeqLen, cal.Calibration.LeadingBos);
            }
        }
        return new BlockReport(layer, results, clipErrors, skipped, clock.Elapsed);
    }

    public ILinear QuantizeLinear(LinearKind kind, FloatLinear linear) => RtnMethod.Round(kind, linear, config);
}
