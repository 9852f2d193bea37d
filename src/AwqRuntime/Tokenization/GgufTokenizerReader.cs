using AwqRuntime.Formats.Gguf;

namespace AwqRuntime.Tokenization;

/// <summary>
/// The vocabulary embedded in GGUF metadata (tokenizer.ggml.*), with llama.cpp's defaults for what is
/// absent (llama-vocab.cpp load): "llama" → SentencePiece BPE with bos 1 / eos 2 / unk 0, BOS added and
/// a space prefix; "gpt2" → byte-level BPE with ranked merges, no space prefix, BOS added only for the
/// Llama-3 pre-tokenizer. Explicit keys (add_bos_token, add_space_prefix, ...) override the defaults. A
/// special-token id outside the vocabulary (0xFFFFFFFF is common for "none") means none.
/// </summary>
public static class GgufTokenizerReader
{
    public const string ModelKey = "tokenizer.ggml.model";
    public const string PreKey = "tokenizer.ggml.pre";
    public const string TokensKey = "tokenizer.ggml.tokens";
    public const string ScoresKey = "tokenizer.ggml.scores";
    public const string TokenTypeKey = "tokenizer.ggml.token_type";
    public const string MergesKey = "tokenizer.ggml.merges";
    public const string BosKey = "tokenizer.ggml.bos_token_id";
    public const string EosKey = "tokenizer.ggml.eos_token_id";
    public const string UnkKey = "tokenizer.ggml.unknown_token_id";
    public const string PadKey = "tokenizer.ggml.padding_token_id";
    public const string AddBosKey = "tokenizer.ggml.add_bos_token";
    public const string AddEosKey = "tokenizer.ggml.add_eos_token";
    public const string AddSpacePrefixKey = "tokenizer.ggml.add_space_prefix";
    public const string ChatTemplateKey = "tokenizer.chat_template";

    public static TokenizerSpec Read(string path)
    {
        using var gguf = GgufFile.Open(path);
        return Read(gguf);
    }

    public static TokenizerSpec Read(GgufFile gguf)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        InvalidDataException Bad(string problem) => new($"{gguf.Path}: {problem}");

        var model = gguf.Has(ModelKey) ? gguf.GetString(ModelKey) : throw Bad($"metadata key '{ModelKey}' is missing (no embedded tokenizer)");
        var kind = model switch
        {
            "llama" => TokenizerKind.SentencePieceBpe,
            "gpt2" => TokenizerKind.ByteLevelBpe,
            _ => throw new NotSupportedException($"{gguf.Path}: tokenizer model '{model}' is not supported (llama, gpt2)"),
        };
        var pre = gguf.GetStringOrNull(PreKey);

        var tokens = gguf.GetArray<string>(TokensKey);
        var n = tokens.Length;
        if (n == 0) throw Bad($"'{TokensKey}' is empty");

        var scores = gguf.GetArrayOrNull<float>(ScoresKey);
        if (scores is not null && scores.Length != n) throw Bad($"'{ScoresKey}' has {scores.Length} entries for {n} tokens");

        var types = new TokenType[n];
        Array.Fill(types, TokenType.Normal);
        if (gguf.Has(TokenTypeKey))
        {
            var raw = IntegerArray(gguf, TokenTypeKey);
            if (raw.Length != n) throw Bad($"'{TokenTypeKey}' has {raw.Length} entries for {n} tokens");
            for (var i = 0; i < n; i++)
            {
                types[i] = raw[i] switch
                {
                    0 => TokenType.Normal, // LLAMA_TOKEN_TYPE_UNDEFINED: no special handling
                    >= 1 and <= 6 => (TokenType)raw[i],
                    _ => throw Bad($"'{TokenTypeKey}'[{i}] = {raw[i]} is not a token type (0..6)"),
                };
            }
        }

        string[]? merges = null;
        if (kind == TokenizerKind.ByteLevelBpe)
        {
            merges = gguf.Has(MergesKey) ? gguf.GetArray<string>(MergesKey) : throw Bad($"'{MergesKey}' is missing (required for a gpt2 tokenizer)");
            for (var i = 0; i < merges.Length; i++)
                if (merges[i].Length < 3 || merges[i].IndexOf(' ', 1) < 0)
                    throw Bad($"'{MergesKey}'[{i}] = '{merges[i]}' is not two tokens separated by a space");
        }

        int SpecialId(string key, int fallback)
        {
            var v = gguf.GetIntegerOrNull(key);
            if (v is null) return fallback < n ? fallback : -1;
            return v >= 0 && v < n ? (int)v : -1;
        }

        var spm = kind == TokenizerKind.SentencePieceBpe;
        var llama3 = pre is "llama-bpe" or "llama3" or "llama-v3";
        var spec = new TokenizerSpec
        {
            Kind = kind,
            Tokens = tokens,
            Scores = spm ? scores ?? new float[n] : scores,
            Types = types,
            Merges = merges,
            BosId = SpecialId(BosKey, spm ? 1 : -1),
            EosId = SpecialId(EosKey, spm ? 2 : -1),
            UnkId = SpecialId(UnkKey, spm ? 0 : -1),
            PadId = SpecialId(PadKey, -1),
            AddBos = gguf.GetBoolOrNull(AddBosKey) ?? (spm || llama3),
            AddEos = gguf.GetBoolOrNull(AddEosKey) ?? false,
            AddSpacePrefix = gguf.GetBoolOrNull(AddSpacePrefixKey) ?? spm,
            PreTokenizer = pre,
            ChatTemplate = gguf.GetStringOrNull(ChatTemplateKey),
        };
        spec.Validate(gguf.Path);
        return spec;
    }

    private static long[] IntegerArray(GgufFile gguf, string key) => gguf.Get(key).Value switch
    {
        int[] a => Array.ConvertAll(a, v => (long)v),
        uint[] a => Array.ConvertAll(a, v => (long)v),
        short[] a => Array.ConvertAll(a, v => (long)v),
        ushort[] a => Array.ConvertAll(a, v => (long)v),
        sbyte[] a => Array.ConvertAll(a, v => (long)v),
        byte[] a => Array.ConvertAll(a, v => (long)v),
        long[] a => a,
        _ => throw new InvalidDataException($"{gguf.Path}: metadata key '{key}' has type {gguf.Get(key).Type}, expected an integer array"),
    };
}
