using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;

namespace AwqRuntime.Synthetic;

/// <summary>What <see cref="SyntheticModel.WriteHf"/> generates.</summary>
public sealed record SyntheticModelOptions
{
    /// <summary>A name of <see cref="SyntheticModel.Presets"/>: "tiny", "tinyllama-1.1b", "llama3", "mistral", "qwen2".</summary>
    public string Preset { get; init; } = "tiny";

    /// <summary>The vocabulary size of the tokenizer the caller will ship with the model (preset default when null).</summary>
    public int? VocabSize { get; init; }

    /// <summary>Override of the preset's layer count (e.g. a 2-layer TinyLlama-shaped model).</summary>
    public int? NumLayers { get; init; }

    public ulong Seed { get; init; }

    /// <summary>Stored dtype: F16 (default, like published checkpoints), F32 or BF16.</summary>
    public TensorDType DType { get; init; } = TensorDType.F16;
}

/// <summary>
/// Synthetic LLaMA-family checkpoints with real shapes and random weights (<see cref="SyntheticWeightSource"/>),
/// written as Hugging Face folders, for tests and benchmarks where a real model is too big or absent.
/// Presets:
/// <list type="bullet">
/// <item>"tiny": hidden 128, 2 layers, 4 heads of 32, 2 KV heads (GQA), intermediate 352, vocab 32000
/// (the Llama-2 tokenizer's) by default, context 512, untied. 352 = 11·32 is chosen on purpose: it
/// splits into ggml's 32-element blocks and AWQ's 8-per-int32 packing, but not into 128-groups, so
/// down_proj exercises a short last quantization group as real checkpoints with odd sizes do.</item>
/// <item>"tinyllama-1.1b": TinyLlama-1.1B's shapes: 22 layers, hidden 2048, intermediate 5632,
/// 32 heads, 4 KV heads, vocab 32000, rope_theta 10000, rms eps 1e-5, 2048 positions, untied.</item>
/// <item>"llama3", "mistral", "qwen2": one small model per family, every width a multiple of 128
/// (hidden 256, intermediate 768, 2 layers, 4 heads of 64, 2 KV heads), each with what sets its
/// family apart: llama3 — rope_theta 500000, Llama 3.1's rope_scaling (factor 8, low 1, high 4,
/// original context 8192) and tied embeddings, as Llama 3.2 1B; mistral — a sliding window of 256
/// over a context of 1024; qwen2 — q/k/v biases, rope_theta 1000000, rms eps 1e-6, tied, as Qwen2-0.5B.</item>
/// </list>
/// Writing streams one tensor at a time (the largest, TinyLlama's embedding, is 262 MB as fp32).
/// Tokenizer files are the caller's: copy them in through <see cref="HfWriteOptions.AddFiles"/>.
/// </summary>
public static class SyntheticModel
{
    public static IReadOnlyList<string> Presets { get; } = ["tiny", "tinyllama-1.1b", "llama3", "mistral", "qwen2"];

    /// <summary>The shape the three family presets share: small, every dim a multiple of 128, GQA.</summary>
    private static LlamaConfig FamilyShape(string name) => new()
    {
        VocabSize = 32000, HiddenSize = 256, IntermediateSize = 768, NumLayers = 2, NumHeads = 4, NumKvHeads = 2,
        RmsNormEps = 1e-5f, RopeTheta = 10000f, MaxPositionEmbeddings = 1024, Name = $"synthetic-{name}",
    };

    public static LlamaConfig PresetConfig(string preset, int? vocabSize = null, int? numLayers = null)
    {
        var c = preset switch
        {
            "tiny" => new LlamaConfig
            {
                VocabSize = 32000, HiddenSize = 128, IntermediateSize = 352, NumLayers = 2, NumHeads = 4, NumKvHeads = 2,
                RmsNormEps = 1e-5f, RopeTheta = 10000f, MaxPositionEmbeddings = 512, Name = "synthetic-tiny",
            },
            "tinyllama-1.1b" => new LlamaConfig
            {
                VocabSize = 32000, HiddenSize = 2048, IntermediateSize = 5632, NumLayers = 22, NumHeads = 32, NumKvHeads = 4,
                RmsNormEps = 1e-5f, RopeTheta = 10000f, MaxPositionEmbeddings = 2048, Name = "synthetic-tinyllama-1.1b",
            },
            "llama3" => FamilyShape("llama3") with
            {
                RopeTheta = 500000f, TieWordEmbeddings = true,
                RopeScaling = new RopeScaling { Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192 },
            },
            "mistral" => FamilyShape("mistral") with { Family = ModelFamilies.Mistral, SlidingWindow = 256 },
            "qwen2" => FamilyShape("qwen2") with
            {
                Family = ModelFamilies.Qwen2, RopeTheta = 1000000f, RmsNormEps = 1e-6f, TieWordEmbeddings = true,
            },
            _ => throw new ArgumentException($"unknown synthetic preset '{preset}' (known: {string.Join(", ", Presets)})", nameof(preset)),
        };
        if (vocabSize is { } v) c = c with { VocabSize = v };
        if (numLayers is { } l) c = c with { NumLayers = l };
        return c.Validate($"synthetic preset '{preset}'");
    }

    public static SyntheticWeightSource Create(SyntheticModelOptions options) =>
        new(PresetConfig(options.Preset, options.VocabSize, options.NumLayers), options.Seed);

    /// <summary>Writes the synthetic model as an HF folder (config.json, generation_config.json, safetensors).</summary>
    public static void WriteHf(string folder, SyntheticModelOptions options, HfWriteOptions? writeOptions = null)
    {
        using var src = Create(options);
        HfCheckpointWriter.Write(src, folder, options.DType, writeOptions);
    }
}
