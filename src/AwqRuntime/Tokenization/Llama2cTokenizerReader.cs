using System.Buffers.Binary;
using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// llama2.c's tokenizer.bin: int32 max_token_length, then per token float32 score, int32 length and
/// that many bytes. The file has no token count (llama2.c takes it from the model), so tokens are read
/// to the end of the file and every length is checked against max_token_length and what is left.
/// Converted the way llama.cpp's convert-llama2c-to-ggml does: id 0 → "&lt;unk&gt;" (Unknown), ids 1/2 →
/// "&lt;s&gt;"/"&lt;/s&gt;" (Control; llama2.c stores them as "\n&lt;s&gt;\n"), empty → Control,
/// "&lt;0xNN&gt;" → Byte, and real spaces → ▁.
/// </summary>
public static class Llama2cTokenizerReader
{
    private const int MaxFileBytes = 1 << 30;
    private const int MaxTokenLength = 1 << 16;

    /// <param name="expectedVocabSize">The model's vocab_size when known; the file must hold exactly that many tokens.</param>
    public static TokenizerSpec Read(string path, int? expectedVocabSize = null)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        if (info.Length > MaxFileBytes) throw new InvalidDataException($"{path}: {info.Length} bytes is too large for a llama2.c tokenizer");
        return Parse(File.ReadAllBytes(path), path, expectedVocabSize);
    }

    public static TokenizerSpec Parse(ReadOnlySpan<byte> data, string source, int? expectedVocabSize = null)
    {
        InvalidDataException Bad(string problem) => new($"{source}: llama2.c tokenizer: {problem}");

        if (data.Length < 4) throw Bad($"file is {data.Length} bytes, too short for the max_token_length header");
        var maxLen = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (maxLen <= 0 || maxLen > MaxTokenLength) throw Bad($"max_token_length {maxLen} is not in 1..{MaxTokenLength}");

        var strict = new UTF8Encoding(false, throwOnInvalidBytes: true);
        var tokens = new List<string>();
        var scores = new List<float>();
        var pos = 4;
        while (pos < data.Length)
        {
            var i = tokens.Count;
            if (data.Length - pos < 8) throw Bad($"token {i} at offset {pos}: needs 8 bytes for score and length, {data.Length - pos} left (truncated?)");
            var score = BinaryPrimitives.ReadSingleLittleEndian(data[pos..]);
            var len = BinaryPrimitives.ReadInt32LittleEndian(data[(pos + 4)..]);
            pos += 8;
            if (!float.IsFinite(score)) throw Bad($"token {i} has a non-finite score");
            if (len < 0 || len > maxLen) throw Bad($"token {i} has length {len}, outside 0..max_token_length {maxLen}");
            if (len > data.Length - pos) throw Bad($"token {i} needs {len} bytes at offset {pos}, {data.Length - pos} left (truncated?)");
            string text;
            try { text = strict.GetString(data.Slice(pos, len)); }
            catch (DecoderFallbackException) { throw Bad($"token {i} is not valid UTF-8"); }
            pos += len;
            tokens.Add(text);
            scores.Add(score);
        }

        if (tokens.Count < 3) throw Bad($"has {tokens.Count} tokens; at least <unk>, <s>, </s> are required");
        if (expectedVocabSize is { } expected && tokens.Count != expected)
            throw Bad($"holds {tokens.Count} tokens but the model's vocab_size is {expected}");

        var types = new TokenType[tokens.Count];
        for (var id = 0; id < tokens.Count; id++)
        {
            var text = tokens[id];
            (tokens[id], types[id]) = id switch
            {
                0 => ("<unk>", TokenType.Unknown),
                1 => ("<s>", TokenType.Control),
                2 => ("</s>", TokenType.Control),
                _ when text.Length == 0 => (text, TokenType.Control),
                _ when Tokenizer.TryParseBytePiece(text, out _) => (text, TokenType.Byte),
                _ => (text.Replace(' ', '\u2581'), TokenType.Normal),
            };
        }

        var spec = new TokenizerSpec
        {
            Kind = TokenizerKind.SentencePieceBpe,
            Tokens = tokens.ToArray(),
            Scores = scores.ToArray(),
            Types = types,
            BosId = 1,
            EosId = 2,
            UnkId = 0,
            AddBos = true,
            AddSpacePrefix = true,
        };
        spec.Validate(source);
        return spec;
    }
}
