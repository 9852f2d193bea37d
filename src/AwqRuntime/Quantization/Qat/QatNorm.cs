using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// An RMSNorm weight under training: latent fp32 values, the fp16-rounded ones the forward pass uses
/// (the checkpoint stores norms in fp16; the rounding is another straight-through step), the
/// gradient dw[i] = Σ_rows dy[i] · x[i] · r accumulated by <see cref="RmsNormGrad"/>, and Adam with a
/// step size relative to each value's initial magnitude. A norm scales its block's input channels,
/// the freedom AWQ's scale search uses, so it is worth learning alongside the weights.
/// </summary>
internal sealed class QatNorm
{
    private readonly float[] _lr;
    private readonly Adam? _adam;

    public QatNorm(float[] weight, float learningRate)
    {
        Latent = (float[])weight.Clone();
        Value = new float[weight.Length];
        Gradient = new float[weight.Length];
        _lr = weight.Select(w => learningRate * MathF.Max(MathF.Abs(w), 1e-3f)).ToArray();
        if (learningRate > 0) _adam = new Adam(weight.Length);
        Round();
    }

    public float[] Latent { get; }

    /// <summary>fp16(Latent): what the forward pass multiplies by.</summary>
    public float[] Value { get; }

    public float[] Gradient { get; }

    public void Step(float factor)
    {
        if (_adam != null)
        {
            _adam.Step(Latent, Gradient, _lr, factor);
            Round();
        }
        Array.Clear(Gradient);
    }

    public float[] Snapshot() => (float[])Latent.Clone();

    public void Restore(float[] snapshot)
    {
        snapshot.CopyTo(Latent, 0);
        Round();
    }

    private void Round()
    {
        for (var i = 0; i < Latent.Length; i++) Value[i] = Fp16.Round(Latent[i]);
    }
}
