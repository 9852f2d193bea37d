namespace AwqRuntime.Numerics;

/// <summary>Which elements share one scale and zero point.</summary>
public enum Granularity
{
    /// <summary>One scale for the whole tensor.</summary>
    PerTensor,

    /// <summary>One scale per row (output channel of a weight matrix [N, K]).</summary>
    PerChannel,

    /// <summary>One scale per group of G consecutive elements of a row; the last group of a row may be shorter.</summary>
    PerGroup,
}
