namespace AwqRuntime.Model;

/// <summary>The weights of a linear as fp32 [Out, In], whatever it stores (for re-quantizing at load).</summary>
public static class LinearWeights
{
    public static float[] ToFloat32(ILinear linear) => linear switch
    {
        FloatLinear f => f.Weight,
        HalfLinear h => h.ToFloat32(),
        IGroupQuantizedLinear q => q.ToWeights().Dequantize(),
        _ => throw new NotSupportedException($"cannot read the weights of a {linear.GetType().Name} as fp32"),
    };
}
