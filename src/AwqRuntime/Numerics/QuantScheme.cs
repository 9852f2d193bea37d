namespace AwqRuntime.Numerics;

/// <summary>How a group's scale and zero point are chosen (awq_qscheme in awq_kernels.h; same values).</summary>
public enum QuantScheme
{
    /// <summary>absmax: qmax = 2^(b-1)-1, scale = max|x|/qmax, zero 0, q in [-qmax, qmax].</summary>
    Symmetric = 0,

    /// <summary>min/max with 0 in the range: qmax = 2^b-1, scale = (hi-lo)/qmax, zero = round(-lo/scale), q in [0, qmax].</summary>
    Asymmetric = 1,

    /// <summary>AutoAWQ's pseudo_quantize_tensor: scale = fp16(max(max-min, 1e-5)/qmax), zero = clamp(-round(min/scale)), q in [0, qmax].</summary>
    Awq = 2,
}
