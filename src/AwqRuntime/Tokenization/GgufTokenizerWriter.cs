using AwqRuntime.Formats.Gguf;

namespace AwqRuntime.Tokenization;

/// <summary>
/// A vocabulary as GGUF metadata, with the exact value types llama.cpp's loader checks
/// (llama-vocab.cpp / llama-model-loader.cpp GKV::get_kv; convert_hf_to_gguf.py writes the same):
/// model/pre STRING, tokens ARRAY[STRING], scores ARRAY[FLOAT32], token_type ARRAY[INT32],
/// merges ARRAY[STRING], special ids UINT32, add_* flags BOOL, chat_template STRING.
/// </summary>
public static class GgufTokenizerWriter
{
    public static Dictionary<string, GgufValue> ToMetadata(TokenizerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate("tokenizer spec");
        var spm = spec.Kind == TokenizerKind.SentencePieceBpe;
        var meta = new Dictionary<string, GgufValue>(StringComparer.Ordinal)
        {
            [GgufTokenizerReader.ModelKey] = GgufValue.Of(spm ? "llama" : "gpt2"),
            // llama.cpp's converter writes "default" for SentencePiece vocabularies too.
            [GgufTokenizerReader.PreKey] = GgufValue.Of(spec.PreTokenizer ?? "default"),
            [GgufTokenizerReader.TokensKey] = GgufValue.Of((string[])spec.Tokens.Clone()),
            [GgufTokenizerReader.TokenTypeKey] = GgufValue.Of(Array.ConvertAll(spec.Types, t => (int)t)),
        };
        if (spm || spec.Scores is not null)
            meta[GgufTokenizerReader.ScoresKey] = GgufValue.Of(spec.Scores is null ? new float[spec.VocabSize] : (float[])spec.Scores.Clone());
        if (spec.Merges is not null && !spm)
            meta[GgufTokenizerReader.MergesKey] = GgufValue.Of((string[])spec.Merges.Clone());

        if (spec.BosId >= 0) meta[GgufTokenizerReader.BosKey] = GgufValue.Of((uint)spec.BosId);
        if (spec.EosId >= 0) meta[GgufTokenizerReader.EosKey] = GgufValue.Of((uint)spec.EosId);
        if (spec.UnkId >= 0) meta[GgufTokenizerReader.UnkKey] = GgufValue.Of((uint)spec.UnkId);
        if (spec.PadId >= 0) meta[GgufTokenizerReader.PadKey] = GgufValue.Of((uint)spec.PadId);
        meta[GgufTokenizerReader.AddBosKey] = GgufValue.Of(spec.AddBos);
        meta[GgufTokenizerReader.AddEosKey] = GgufValue.Of(spec.AddEos);
        if (spm) meta[GgufTokenizerReader.AddSpacePrefixKey] = GgufValue.Of(spec.AddSpacePrefix);
        if (spec.ChatTemplate is not null) meta[GgufTokenizerReader.ChatTemplateKey] = GgufValue.Of(spec.ChatTemplate);
        return meta;
    }
}
