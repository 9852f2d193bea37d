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

    /// <summary>
    /// Checks that the arrays agree and every special id is in range, so a tokenizer built from the
    /// spec never indexes out of bounds. Readers call it; <paramref name="source"/> (a file path) is
    /// named in the InvalidDataException.
    /// </summary>
    public void Validate(string source)
    {
        InvalidDataException Bad(string what) => new($"{source}: tokenizer {what}");

        if (Tokens is null || Tokens.Length == 0) throw Bad("has no tokens");
        if (Types is null || Types.Length != Tokens.Length)
            throw Bad($"has {Types?.Length ?? 0} token types for {Tokens.Length} tokens");
        if (Scores is not null && Scores.Length != Tokens.Length)
            throw Bad($"has {Scores.Length} scores for {Tokens.Length} tokens");
        for (var i = 0; i < Tokens.Length; i++)
        {
            if (Tokens[i] is null) throw Bad($"token {i} is null");
            if (!Enum.IsDefined(Types[i])) throw Bad($"token {i} has unknown type {(int)Types[i]}");
            if (Scores is not null && !float.IsFinite(Scores[i])) throw Bad($"token {i} has a non-finite score");
        }
        if (Kind == TokenizerKind.ByteLevelBpe && Merges is null) throw Bad("is byte-level BPE but has no merges");
        if (Merges is not null)
            for (var i = 0; i < Merges.Length; i++)
                if (Merges[i] is null || Merges[i].IndexOf(' ', Math.Min(1, Merges[i].Length)) < 0)
                    throw Bad($"merge {i} ('{Merges[i]}') is not two parts separated by a space");
        CheckId(BosId, "BOS");
        CheckId(EosId, "EOS");
        CheckId(UnkId, "UNK");
        CheckId(PadId, "PAD");

        void CheckId(int id, string what)
        {
            if (id < -1 || id >= Tokens.Length) throw Bad($"{what} id {id} is outside the vocabulary of {Tokens.Length} tokens");
        }
    }
}
