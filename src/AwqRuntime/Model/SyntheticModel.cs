using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;

namespace AwqRuntime.Model;

/// <summary>What <see cref="SyntheticModel.WriteHf"/> generates.</summary>
public sealed record SyntheticModelOptions
{
    /// <summary>"tiny" or "tinyllama-1.1b" (<see cref="SyntheticModel.Presets"/>).</summary>
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
/// Synthetic LLaMA checkpoints with real shapes and random weights (<see cref="SyntheticWeightSource"/>),
/// written as Hugging Face folders, for tests and benchmarks where a real model is too big or absent.
/// Presets:
/// <list type="bullet">
/// <item>"tiny": hidden 128, 2 layers, 4 heads of 32, 2 KV heads (GQA), intermediate 352, vocab 32000
/// (the Llama-2 tokenizer's) by default, context 512, untied. 352 = 11·32 is chosen on purpose: it
/// splits into ggml's 32-element blocks and AWQ's 8-per-int32 packing, but not into 128-groups, so
/// down_proj exercises a short last quantization group as real checkpoints with odd sizes do.</item>
/// <item>"tinyllama-1.1b": TinyLlama-1.1B's shapes: 22 layers, hidden 2048, intermediate 5632,
/// 32 heads, 4 KV heads, vocab 32000, rope_theta 10000, rms eps 1e-5, 2048 positions, untied.</item>
/// </list>
/// Writing streams one tensor at a time (the largest, TinyLlama's embedding, is 262 MB as fp32).
/// Tokenizer files are the caller's: copy them in through <see cref="HfWriteOptions.AddFiles"/>.
/// </summary>
public static class SyntheticModel
{
    public static IReadOnlyList<string> Presets { get; } = ["tiny", "tinyllama-1.1b"];

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
