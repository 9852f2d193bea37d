using AwqRuntime.Model;
using AwqRuntime.Model.Families;

namespace AwqRuntime.Quantization;

/// <summary>
/// A family's scaling group (<see cref="ScalingGroupSpec"/>) bound to one block's calibration data:
/// the cached input its linears share and the inspected module, runnable with candidate linears.
/// </summary>
internal sealed class ScalingGroup
{
    public required ScalingGroupSpec Spec { get; init; }

    public string Name => Spec.Name;
    public PrevOp PrevOp => Spec.PrevOp;
    public LinearKind[] Linears => Spec.Linears;

    /// <summary>Cached input of the linears, [tokens, in_features].</summary>
    public required float[] Input { get; init; }

    /// <summary>
    /// Runs the inspected module on <see cref="Input"/> with the given linears (same order as
    /// <see cref="Linears"/>) standing in for the block's, writing the module output.
    /// </summary>
    public required Action<FloatLinear[], float[]> Inspect { get; init; }

    /// <summary>Whether <see cref="Inspect"/> runs on a device backend (the search then keeps every candidate there).</summary>
    public bool OnDevice { get; init; }
}
