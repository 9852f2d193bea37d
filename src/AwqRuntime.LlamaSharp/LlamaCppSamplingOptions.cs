namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Token selection for <see cref="LlamaCppModel.Generate"/>. Temperature 0 is greedy: the exact argmax
/// of the logits, lowest id on ties (the rule of llama.cpp's greedy sampler and of llama2.c). Otherwise
/// llama.cpp's own sampler chain runs (top-k, top-p, min-p, temperature, then a seeded draw), so a seed
/// reproduces llama.cpp's choices.
/// </summary>
public sealed record LlamaCppSamplingOptions
{
    /// <summary>Greedy decoding (argmax at every step).</summary>
    public static LlamaCppSamplingOptions Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Softmax temperature; 0 selects greedy decoding. Default 0.8 as in llama.cpp's CLI.</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep only the k most likely tokens; 0 disables the filter. Default 40.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Nucleus filter: smallest set whose probability reaches p; 1 disables it. Default 0.95.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens below minP times the top probability; 0 disables it. Default 0.05.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>Seed of llama.cpp's distribution sampler; the same seed and prompt give the same tokens.</summary>
    public uint Seed { get; init; } = 42;

    internal bool IsGreedy => Temperature <= 0f;

    internal void Validate()
    {
        if (float.IsNaN(Temperature) || Temperature < 0f) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "must be >= 0");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "must be >= 0");
        if (!(TopP > 0f && TopP <= 1f)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "must be in (0, 1]");
        if (!(MinP >= 0f && MinP < 1f)) throw new ArgumentOutOfRangeException(nameof(MinP), MinP, "must be in [0, 1)");
    }
}
