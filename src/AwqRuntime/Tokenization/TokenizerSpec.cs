namespace AwqRuntime.Tokenization;

/// <summary>Which algorithm a vocabulary is for (GGUF's tokenizer.ggml.model: "llama" / "gpt2").</summary>
public enum TokenizerKind
{
    /// <summary>SentencePiece-style BPE over pieces with scores, ▁ for spaces, byte fallback (Llama 1/2, llama2.c).</summary>
    SentencePieceBpe,

    /// <summary>Byte-level BPE with ranked merges and a regex pre-tokenizer (Llama 3, GPT-2 style).</summary>
    ByteLevelBpe,
}

/// <summary>Token types as GGUF stores them (tokenizer.ggml.token_type).</summary>
public enum TokenType
{
    Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
}

/// <summary>
/// A complete vocabulary in GGUF's conventions, whatever file it came from: SentencePiece pieces use
/// U+2581 (▁) for spaces and "&lt;0xNN&gt;" byte pieces; byte-level BPE tokens use GPT-2's
/// byte-to-unicode alphabet. Readers (tokenizer.bin, tokenizer.model, tokenizer.json, GGUF metadata)
/// produce it; tokenizers and writers (GGUF metadata, tokenizer.json) consume it.
/// </summary>
public sealed record TokenizerSpec
{
    public required TokenizerKind Kind { get; init; }
    public required string[] Tokens { get; init; }

    /// <summary>Piece scores (SentencePiece merge priority); null for byte-level BPE.</summary>
    public float[]? Scores { get; init; }

    public required TokenType[] Types { get; init; }

    /// <summary>Ranked merges "a b" (byte-level BPE); null for SentencePiece.</summary>
    public string[]? Merges { get; init; }

    public int BosId { get; init; } = 1;
    public int EosId { get; init; } = 2;

    /// <summary>-1 when the vocabulary has none.</summary>
    public int UnkId { get; init; } = 0;

    public int PadId { get; init; } = -1;
    public bool AddBos { get; init; } = true;
    public bool AddEos { get; init; }

    /// <summary>SentencePiece's add_dummy_prefix: a ▁ is prepended to the text before encoding.</summary>
    public bool AddSpacePrefix { get; init; } = true;

    /// <summary>Byte-level pre-tokenizer name as GGUF's tokenizer.ggml.pre ("llama-bpe", "deepseek-llm", "default").</summary>
    public string? PreTokenizer { get; init; }

    /// <summary>Jinja chat template, when the checkpoint carries one.</summary>
    public string? ChatTemplate { get; init; }

    public int VocabSize => Tokens.Length;
}
