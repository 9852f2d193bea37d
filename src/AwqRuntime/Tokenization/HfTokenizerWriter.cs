using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AwqRuntime.Tokenization;

/// <summary>
/// A vocabulary as Hugging Face tokenizer.json + tokenizer_config.json.
/// <list type="bullet">
/// <item>SentencePiece BPE is written the way transformers' LlamaConverter (legacy) writes Llama 2:
/// a BPE model with byte_fallback and fuse_unk, a Prepend("▁") + Replace(" " → "▁") normalizer, a
/// Replace/ByteFallback/Fuse/Strip decoder, and merges derived from the piece scores exactly as the
/// converter's SentencePieceExtractor does (every split of a piece into two pieces, ordered by the
/// piece's score, highest first).</item>
/// <item>Byte-level BPE (gpt-2, llama-bpe, deepseek-llm pre-tokenizers) as a BPE model with a
/// Split + ByteLevel pre-tokenizer and a ByteLevel decoder.</item>
/// </list>
/// <see cref="HfTokenizerReader"/> reads either back into a spec that encodes identically.
/// </summary>
public static class HfTokenizerWriter
{
    private const char Space = '\u2581';

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/> (each via a temp file and rename).</summary>
    public static void Write(TokenizerSpec spec, string directory)
    {
        Directory.CreateDirectory(directory);
        WriteAtomically(Path.Combine(directory, HfTokenizerReader.TokenizerJson), ToTokenizerJson(spec));
        WriteAtomically(Path.Combine(directory, HfTokenizerReader.TokenizerConfigJson), ToTokenizerConfigJson(spec));
    }

    public static string ToTokenizerJson(TokenizerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate("tokenizer spec");
        var spm = spec.Kind == TokenizerKind.SentencePieceBpe;
        (string Left, string Right)[] merges = spm ? SentencePieceMerges(spec) : spec.Merges!.Select(SplitMerge).ToArray();

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");

            w.WriteStartArray("added_tokens");
            for (var id = 0; id < spec.VocabSize; id++)
            {
                var type = spec.Types[id];
                if (type is not (TokenType.Control or TokenType.Unknown or TokenType.UserDefined)) continue;
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", spec.Tokens[id]);
                w.WriteBoolean("single_word", false);
                w.WriteBoolean("lstrip", false);
                w.WriteBoolean("rstrip", false);
                w.WriteBoolean("normalized", type == TokenType.UserDefined && spm);
                w.WriteBoolean("special", type != TokenType.UserDefined);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            if (spm) WriteSentencePiecePipeline(w, spec);
            else WriteByteLevelPipeline(w, spec);

            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteNull("dropout");
            if (spec.UnkId >= 0) w.WriteString("unk_token", spec.Tokens[spec.UnkId]);
            else w.WriteNull("unk_token");
            w.WriteNull("continuing_subword_prefix");
            w.WriteNull("end_of_word_suffix");
            w.WriteBoolean("fuse_unk", spm);
            w.WriteBoolean("byte_fallback", spm && HasBytePieces(spec));
            w.WriteBoolean("ignore_merges", !spm && spec.PreTokenizer is "llama-bpe" or "llama3" or "llama-v3");
            w.WriteStartObject("vocab");
            var seen = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var id = 0; id < spec.VocabSize; id++)
            {
                if (!seen.TryAdd(spec.Tokens[id], id))
                    throw new InvalidOperationException(
                        $"token text '{spec.Tokens[id]}' appears at ids {seen[spec.Tokens[id]]} and {id}; tokenizer.json cannot hold duplicates");
                w.WriteNumber(spec.Tokens[id], id);
            }
            w.WriteEndObject();
            // "a b" strings are what every tokenizers version reads; pairs (tokenizers >= 0.20) only when a part has a space.
            var asPairs = merges.Any(m => m.Left.Contains(' ') || m.Right.Contains(' '));
            w.WriteStartArray("merges");
            foreach (var (left, right) in merges)
            {
                if (!asPairs)
                {
                    w.WriteStringValue($"{left} {right}");
                    continue;
                }
                w.WriteStartArray();
                w.WriteStringValue(left);
                w.WriteStringValue(right);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();

            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string ToTokenizerConfigJson(TokenizerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var spm = spec.Kind == TokenizerKind.SentencePieceBpe;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteBoolean("add_bos_token", spec.AddBos);
            w.WriteBoolean("add_eos_token", spec.AddEos);
            WriteTokenOrNull(w, "bos_token", spec, spec.BosId);
            WriteTokenOrNull(w, "eos_token", spec, spec.EosId);
            WriteTokenOrNull(w, "unk_token", spec, spec.UnkId);
            WriteTokenOrNull(w, "pad_token", spec, spec.PadId);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            if (spm)
            {
                w.WriteBoolean("legacy", true);
                w.WriteBoolean("add_prefix_space", spec.AddSpacePrefix);
                w.WriteStartObject("sp_model_kwargs");
                w.WriteEndObject();
            }
            w.WriteString("tokenizer_class", spm ? "LlamaTokenizer" : "PreTrainedTokenizerFast");
            if (spec.ChatTemplate is not null) w.WriteString("chat_template", spec.ChatTemplate);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// transformers' SentencePieceExtractor.extract with scores: for every piece (in id order), every
    /// split into two vocabulary pieces, ordered by the parts' ids; then all merges stably sorted by
    /// the piece's score, highest first.
    /// </summary>
    public static (string Left, string Right)[] SentencePieceMerges(TokenizerSpec spec)
    {
        var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < spec.VocabSize; id++) idOf[spec.Tokens[id]] = id; // Python dict: last wins
        var lookup = idOf.GetAlternateLookup<ReadOnlySpan<char>>();
        var scores = spec.Scores ?? new float[spec.VocabSize];

        var merges = new List<(string Left, string Right, float Score, int Order)>();
        var local = new List<(int LeftId, int RightId, int At)>();
        for (var id = 0; id < spec.VocabSize; id++)
        {
            var piece = spec.Tokens[id];
            local.Clear();
            for (var at = 1; at < piece.Length; at++)
            {
                if (char.IsLowSurrogate(piece[at])) continue; // split between code points only, as Python does
                if (lookup.TryGetValue(piece.AsSpan(0, at), out var l) && lookup.TryGetValue(piece.AsSpan(at), out var r))
                    local.Add((l, r, at));
            }
            local.Sort((a, b) => a.LeftId != b.LeftId ? a.LeftId.CompareTo(b.LeftId) : a.RightId.CompareTo(b.RightId));
            foreach (var (_, _, at) in local) merges.Add((piece[..at], piece[at..], scores[id], merges.Count));
        }
        merges.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : a.Order.CompareTo(b.Order));
        return merges.Select(m => (m.Left, m.Right)).ToArray();
    }

    private static void WriteSentencePiecePipeline(Utf8JsonWriter w, TokenizerSpec spec)
    {
        w.WriteStartObject("normalizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("normalizers");
        if (spec.AddSpacePrefix)
        {
            w.WriteStartObject();
            w.WriteString("type", "Prepend");
            w.WriteString("prepend", Space.ToString());
            w.WriteEndObject();
        }
        WriteReplace(w, " ", Space.ToString());
        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteNull("pre_tokenizer");
        WriteTemplateProcessing(w, spec);

        w.WriteStartObject("decoder");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("decoders");
        WriteReplace(w, Space.ToString(), " ");
        w.WriteStartObject();
        w.WriteString("type", "ByteFallback");
        w.WriteEndObject();
        w.WriteStartObject();
        w.WriteString("type", "Fuse");
        w.WriteEndObject();
        if (spec.AddSpacePrefix)
        {
            w.WriteStartObject();
            w.WriteString("type", "Strip");
            w.WriteString("content", " ");
            w.WriteNumber("start", 1);
            w.WriteNumber("stop", 0);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteByteLevelPipeline(Utf8JsonWriter w, TokenizerSpec spec)
    {
        var name = spec.PreTokenizer ?? "default";
        string[] splits = name switch
        {
            "gpt-2" => [],
            "llama-bpe" or "llama3" or "llama-v3" => [ByteLevelPreTokenizer.Llama3Pattern],
            "deepseek-llm" => ByteLevelPreTokenizer.DeepSeekLlmPatterns(),
            _ => throw new NotSupportedException($"byte-level pre-tokenizer '{name}' has no tokenizer.json form here (gpt-2, llama-bpe, deepseek-llm)"),
        };

        w.WriteNull("normalizer");
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "Sequence");
        w.WriteStartArray("pretokenizers");
        foreach (var pattern in splits)
        {
            w.WriteStartObject();
            w.WriteString("type", "Split");
            w.WriteStartObject("pattern");
            w.WriteString("Regex", pattern);
            w.WriteEndObject();
            w.WriteString("behavior", "Isolated");
            w.WriteBoolean("invert", false);
            w.WriteEndObject();
        }
        WriteByteLevel(w, null, useRegex: splits.Length == 0);
        w.WriteEndArray();
        w.WriteEndObject();

        WriteTemplateProcessing(w, spec);
        WriteByteLevel(w, "decoder", useRegex: true);
    }

    private static void WriteByteLevel(Utf8JsonWriter w, string? property, bool useRegex)
    {
        if (property is null) w.WriteStartObject();
        else w.WriteStartObject(property);
        w.WriteString("type", "ByteLevel");
        w.WriteBoolean("add_prefix_space", false);
        w.WriteBoolean("trim_offsets", true);
        w.WriteBoolean("use_regex", useRegex);
        w.WriteEndObject();
    }

    /// <summary>BOS/EOS around each sequence, as AddBos/AddEos say (HF applies this post-processor when add_special_tokens).</summary>
    private static void WriteTemplateProcessing(Utf8JsonWriter w, TokenizerSpec spec)
    {
        var bos = spec.AddBos && spec.BosId >= 0 ? spec.Tokens[spec.BosId] : null;
        var eos = spec.AddEos && spec.EosId >= 0 ? spec.Tokens[spec.EosId] : null;
        w.WriteStartObject("post_processor");
        w.WriteString("type", "TemplateProcessing");
        void Sequence(string which, int typeId)
        {
            if (bos is not null) SpecialItem(bos, typeId);
            w.WriteStartObject();
            w.WriteStartObject("Sequence");
            w.WriteString("id", which);
            w.WriteNumber("type_id", typeId);
            w.WriteEndObject();
            w.WriteEndObject();
            if (eos is not null) SpecialItem(eos, typeId);
        }
        void SpecialItem(string token, int typeId)
        {
            w.WriteStartObject();
            w.WriteStartObject("SpecialToken");
            w.WriteString("id", token);
            w.WriteNumber("type_id", typeId);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteStartArray("single");
        Sequence("A", 0);
        w.WriteEndArray();
        w.WriteStartArray("pair");
        Sequence("A", 0);
        Sequence("B", 1);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        foreach (var (token, id) in new[] { (bos, spec.BosId), (eos, spec.EosId) }.Where(t => t.Item1 is not null).Distinct())
        {
            w.WriteStartObject(token!);
            w.WriteString("id", token);
            w.WriteStartArray("ids");
            w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(token);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteReplace(Utf8JsonWriter w, string from, string to)
    {
        w.WriteStartObject();
        w.WriteString("type", "Replace");
        w.WriteStartObject("pattern");
        w.WriteString("String", from);
        w.WriteEndObject();
        w.WriteString("content", to);
        w.WriteEndObject();
    }

    private static void WriteTokenOrNull(Utf8JsonWriter w, string name, TokenizerSpec spec, int id)
    {
        if (id >= 0) w.WriteString(name, spec.Tokens[id]);
        else w.WriteNull(name);
    }

    private static bool HasBytePieces(TokenizerSpec spec) => spec.Types.Contains(TokenType.Byte);

    private static (string Left, string Right) SplitMerge(string merge)
    {
        var sp = merge.IndexOf(' ', 1);
        return (merge[..sp], merge[(sp + 1)..]);
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            File.WriteAllText(temp, content, new UTF8Encoding(false));
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
