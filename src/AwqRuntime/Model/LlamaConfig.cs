using AwqRuntime.Model.Families;

namespace AwqRuntime.Model;

/// <summary>
/// Hyper-parameters of a LLaMA-family decoder, named as Hugging Face's LlamaConfig names them.
/// Every loader (HF config.json, GGUF llama.* keys, llama2.c header) fills this and calls
/// <see cref="Validate"/> so that a contradictory checkpoint fails before any weight is read.
/// </summary>
public sealed record LlamaConfig
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }

    /// <summary>Per-head width; HF allows an explicit head_dim, otherwise hidden / heads.</summary>
    public int HeadDim { get; init; }

    /// <summary>Dimensions rotated by RoPE inside each head (llama.rope.dimension_count); usually HeadDim.</summary>
    public int RopeDim { get; init; }

    public float RmsNormEps { get; init; } = 1e-5f;
    public float RopeTheta { get; init; } = 10000f;
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    public int BosTokenId { get; init; } = 1;
    public int EosTokenId { get; init; } = 2;
    public string Name { get; init; } = "llama";

    /// <summary>The architecture (<see cref="ModelFamilies"/>): what differs between LLaMA, Mistral, Qwen2, ….</summary>
    public ModelFamily Family { get; init; } = ModelFamilies.Llama;

    /// <summary>Llama 3.1-style RoPE frequency scaling, or null for plain RoPE.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Sliding-window attention width (Mistral's sliding_window); 0 for full attention.</summary>
    public int SlidingWindow { get; init; }

    /// <summary>The per-pair RoPE frequency factors the kernel divides angles by; empty for plain RoPE.</summary>
    public float[] RopeFreqFactors() => RopeScaling?.FreqFactors(EffectiveRopeDim, RopeTheta) ?? [];

    public int EffectiveHeadDim => HeadDim > 0 ? HeadDim : HiddenSize / Math.Max(NumHeads, 1);
    public int EffectiveRopeDim => RopeDim > 0 ? RopeDim : EffectiveHeadDim;
    public int KvDim => NumKvHeads * EffectiveHeadDim;
    public int QDim => NumHeads * EffectiveHeadDim;

    /// <summary>Throws InvalidDataException naming <paramref name="source"/> and the bad field.</summary>
    public LlamaConfig Validate(string source)
    {
        void Positive(int v, string name)
        {
            if (v <= 0) throw new InvalidDataException($"{source}: {name} must be positive (got {v})");
        }
        Positive(VocabSize, "vocab_size");
        Positive(HiddenSize, "hidden_size");
        Positive(IntermediateSize, "intermediate_size");
        Positive(NumLayers, "num_hidden_layers");
        Positive(NumHeads, "num_attention_heads");
        Positive(NumKvHeads, "num_key_value_heads");
        Positive(MaxPositionEmbeddings, "max_position_embeddings");
        // Widths the forward pass multiplies in int (QDim, KvDim) and rows of a weight matrix must fit
        // 32 bits; a corrupt header of huge fields must fail here, not overflow into a plausible size.
        if ((long)NumHeads * EffectiveHeadDim > int.MaxValue)
            throw new InvalidDataException($"{source}: num_attention_heads {NumHeads} × head dimension {EffectiveHeadDim} overflows");
        foreach (var (name, rows, cols) in new[] { ("vocab_size × hidden_size", (long)VocabSize, (long)HiddenSize),
                     ("intermediate_size × hidden_size", IntermediateSize, HiddenSize), ("q width × hidden_size", (long)NumHeads * EffectiveHeadDim, HiddenSize) })
            if (rows * cols > Array.MaxLength)
                throw new InvalidDataException($"{source}: {name} = {rows * cols} elements, more than one array can hold");
        if (NumHeads % NumKvHeads != 0)
            throw new InvalidDataException($"{source}: num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKvHeads}");
        if (HeadDim <= 0 && HiddenSize % NumHeads != 0)
            throw new InvalidDataException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumHeads}");
        if (EffectiveHeadDim % 2 != 0)
            throw new InvalidDataException($"{source}: head dimension {EffectiveHeadDim} must be even for RoPE");
        if (EffectiveRopeDim % 2 != 0 || EffectiveRopeDim > EffectiveHeadDim)
            throw new InvalidDataException($"{source}: rope dimension {EffectiveRopeDim} must be even and at most the head dimension {EffectiveHeadDim}");
        if (!(RmsNormEps > 0) || float.IsInfinity(RmsNormEps)) throw new InvalidDataException($"{source}: rms_norm_eps must be positive (got {RmsNormEps})");
        if (!(RopeTheta > 0) || float.IsInfinity(RopeTheta)) throw new InvalidDataException($"{source}: rope_theta must be positive (got {RopeTheta})");
        if (BosTokenId >= VocabSize || EosTokenId >= VocabSize)
            throw new InvalidDataException($"{source}: bos/eos token id ({BosTokenId}/{EosTokenId}) outside the vocabulary of {VocabSize}");
        Family.Validate(this, source);
        return this;
    }
}
