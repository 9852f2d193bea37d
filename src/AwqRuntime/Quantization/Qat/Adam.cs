namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Adam (Kingma and Ba, ICLR 2015, Algorithm 1) over one parameter tensor, with a per-element step
/// size: θ ← θ − lr_i · m̂ / (√v̂ + ε). QAT gives each weight the step size η·s of its group (a
/// fraction of one quantization step), so one η suits every layer and model.
/// </summary>
internal sealed class Adam(int length, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f)
{
    private readonly float[] _m = new float[length];
    private readonly float[] _v = new float[length];
    private int _t;

    /// <summary>One step on <paramref name="param"/> with gradient <paramref name="grad"/>; <paramref name="lr"/>[i] · <paramref name="factor"/> (the schedule) is element i's step size.</summary>
    public void Step(Span<float> param, ReadOnlySpan<float> grad, ReadOnlySpan<float> lr, float factor = 1)
    {
        if (param.Length != _m.Length || grad.Length != _m.Length || lr.Length != _m.Length) throw new ArgumentException("Adam: parameter and gradient lengths differ from the state");
        _t++;
        var c1 = 1 - Math.Pow(beta1, _t);
        var c2 = 1 - Math.Pow(beta2, _t);
        for (var i = 0; i < param.Length; i++)
        {
            var g = grad[i];
            _m[i] = beta1 * _m[i] + (1 - beta1) * g;
            _v[i] = beta2 * _v[i] + (1 - beta2) * g * g;
            var mHat = _m[i] / c1;
            var vHat = _v[i] / c2;
            param[i] -= (float)(lr[i] * factor * mHat / (Math.Sqrt(vHat) + epsilon));
        }
    }
}
