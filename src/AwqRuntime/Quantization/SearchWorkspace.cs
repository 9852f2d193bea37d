using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// Buffers the scale and clip searches reuse across candidates and across blocks, allocated once per
/// run: every block has the same shapes, and allocating them per block left hundreds of megabytes of
/// large-object garbage per block for the GC (measured: 6.7 GB peak on a 4-layer TinyLlama before).
/// </summary>
internal sealed class SearchWorkspace(LlamaConfig config, long tokens)
{
    private readonly Dictionary<LinearKind, FloatLinear> _candidates = new();

    public GroupQuantizer.Scratch Quantizer { get; } = new();

    /// <summary>The inspected module's full-precision output, [tokens, hidden].</summary>
    public float[] Reference { get; } = new float[tokens * config.HiddenSize];

    /// <summary>The inspected module's output with candidate weights, [tokens, hidden].</summary>
    public float[] Output { get; } = new float[tokens * config.HiddenSize];

    /// <summary>A scratch linear with the shape of <paramref name="like"/>, one per linear kind.</summary>
    public FloatLinear Candidate(LinearKind kind, FloatLinear like)
    {
        if (!_candidates.TryGetValue(kind, out var c) || c.OutFeatures != like.OutFeatures || c.InFeatures != like.InFeatures)
            _candidates[kind] = c = new FloatLinear(new float[like.Weight.Length], like.OutFeatures, like.InFeatures);
        return c;
    }
}
