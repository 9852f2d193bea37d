using System.Text.Json;

namespace AwqRuntime.Tokenization;

/// <summary>
/// Hugging Face tokenizers' tokenizer.json (a BPE model), with the sibling tokenizer_config.json
/// (bos/eos/unk/pad tokens, add_bos_token, add_eos_token, chat_template), chat_template.jinja and
/// generation_config.json (bos/eos ids) when present. Two shapes are understood:
/// <list type="bullet">
/// <item>SentencePiece-style BPE (Llama 2: byte_fallback, ▁ for spaces through a Prepend/Replace
/// normalizer or a Metaspace pre-tokenizer). HF's converter derived the merges from piece scores,
/// highest score first, so scores are recovered as −(rank of the first merge producing the piece).</item>
/// <item>Byte-level BPE (GPT-2 / Llama 3 / DeepSeek: a ByteLevel pre-tokenizer, vocab + ranked merges,
/// added tokens); the pre-tokenizer regexes are matched to llama.cpp's names.</item>
/// </list>
/// Malformed JSON or wrong value types → InvalidDataException naming the file and the JSON path.
/// </summary>
public static class HfTokenizerReader
{
    public const string TokenizerJson = "tokenizer.json";
    public const string TokenizerConfigJson = "tokenizer_config.json";
    public const string GenerationConfigJson = "generation_config.json";
    public const string ChatTemplateJinja = "chat_template.jinja";

    private const char Space = '\u2581';

    /// <summary>
    /// The largest vocabulary taken (ids 0 .. MaxVocabSize − 1): published vocabularies stop near 256K
    /// (Gemma), so an id beyond this is corruption, not a token — and id 2^31−1 would overflow the count.
    /// </summary>
    public const int MaxVocabSize = 16_000_000;

    /// <param name="path">A checkpoint folder or the tokenizer.json inside it.</param>
    /// <param name="vocabSize">The model's vocabulary size when known (config.json); ids up to it that
    /// the tokenizer does not name become "[PADn]" Unused tokens, as llama.cpp's converter does.</param>
    public static TokenizerSpec Read(string path, int? vocabSize = null)
    {
        var jsonPath = Directory.Exists(path) ? Path.Combine(path, TokenizerJson) : path;
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"tokenizer.json not found: {jsonPath}", jsonPath);
        var dir = Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        string? Sibling(string name)
        {
            var p = Path.Combine(dir, name);
            return File.Exists(p) ? p : null;
        }
        return Parse(jsonPath, Sibling(TokenizerConfigJson), Sibling(GenerationConfigJson), Sibling(ChatTemplateJinja), vocabSize);
    }

    /// <summary>Reads the given files (only the tokenizer.json is required).</summary>
    public static TokenizerSpec Parse(string tokenizerJsonPath, string? tokenizerConfigPath, string? generationConfigPath,
        string? chatTemplatePath = null, int? vocabSize = null)
    {
        using var tokenizer = LoadJson(tokenizerJsonPath);
        using var config = tokenizerConfigPath is null ? null : LoadJson(tokenizerConfigPath);
        using var generation = generationConfigPath is null ? null : LoadJson(generationConfigPath);
        var chatTemplate = chatTemplatePath is null ? null : File.ReadAllText(chatTemplatePath);
        var reader = new Reader(tokenizerJsonPath, tokenizer.RootElement,
            config is null ? null : new Json(tokenizerConfigPath!, config.RootElement),
            generation is null ? null : new Json(generationConfigPath!, generation.RootElement),
            chatTemplate, vocabSize);
        return reader.Build();
    }

    private static string IdRange(int id) => $"id {id} is outside 0 .. {MaxVocabSize - 1}";

    private static JsonDocument LoadJson(string path) =>
        Formats.StrictJson.Parse(File.ReadAllBytes(path), path, new JsonDocumentOptions { MaxDepth = 256 });

    /// <summary>Typed access to one JSON file; every mismatch names the file and the JSON path.</summary>
    private readonly record struct Json(string File, JsonElement Root)
    {
        public InvalidDataException Bad(string path, string problem) => new($"{File}: {path}: {problem}");

        public JsonElement? Get(JsonElement obj, string name) =>
            obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

        public JsonElement Require(JsonElement obj, string name, string path) => Get(obj, name) ?? throw Bad($"{path}.{name}", "is missing");

        public string String(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Bad(path, $"is {e.ValueKind}, expected a string");

        public bool Bool(JsonElement e, string path) => e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(path, $"is {e.ValueKind}, expected true or false"),
        };

        public int Int(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw Bad(path, $"is {e.ValueKind} '{e}', expected an integer");

        public JsonElement Object(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Object ? e : throw Bad(path, $"is {e.ValueKind}, expected an object");

        public JsonElement Array(JsonElement e, string path) =>
            e.ValueKind == JsonValueKind.Array ? e : throw Bad(path, $"is {e.ValueKind}, expected an array");

        public string? OptionalString(JsonElement obj, string name, string path) =>
            Get(obj, name) is { } v ? String(v, $"{path}.{name}") : null;

        public bool? OptionalBool(JsonElement obj, string name, string path) =>
            Get(obj, name) is { } v ? Bool(v, $"{path}.{name}") : null;

        /// <summary>A token given as "text" or as an AddedToken object {"content": "text", ...}.</summary>
        public string? TokenText(JsonElement obj, string name) => Get(obj, name) switch
        {
            null => null,
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Object } o => String(Require(o, "content", name), $"{name}.content"),
            var other => throw Bad(name, $"is {other.Value.ValueKind}, expected a string or an object with 'content'"),
        };

        /// <summary>An id given as an integer or a list of integers (the first is taken).</summary>
        public int? FirstId(JsonElement obj, string name)
        {
            var v = Get(obj, name);
            if (v is null) return null;
            if (v.Value.ValueKind == JsonValueKind.Array)
                return v.Value.GetArrayLength() == 0 ? null : Int(v.Value[0], $"{name}[0]");
            return Int(v.Value, name);
        }
    }

    private sealed class Reader(string source, JsonElement root, Json? config, Json? generation, string? chatTemplateFile, int? vocabSize)
    {
        private readonly Json _json = new(source, root);

        public TokenizerSpec Build()
        {
            var j = _json;
            j.Object(root, "$");
            var model = j.Object(j.Require(root, "model", "$"), "model");
            var modelType = j.OptionalString(model, "type", "model");
            if (modelType is not null and not "BPE")
                throw new NotSupportedException($"{source}: tokenizer model type '{modelType}' is not supported (only BPE)");

            // ---- vocabulary: model.vocab plus added_tokens ----
            var vocab = j.Object(j.Require(model, "vocab", "model"), "model.vocab");
            var byId = new Dictionary<int, string>();
            foreach (var p in vocab.EnumerateObject())
            {
                var id = j.Int(p.Value, $"model.vocab[{JsonSerializer.Serialize(p.Name)}]");
                if (id is < 0 or >= MaxVocabSize) throw j.Bad($"model.vocab[{JsonSerializer.Serialize(p.Name)}]", IdRange(id));
                if (!byId.TryAdd(id, p.Name)) throw j.Bad("model.vocab", $"id {id} is used by both '{byId[id]}' and '{p.Name}'");
            }

            var added = new List<(int Id, string Content, bool Special)>();
            if (j.Get(root, "added_tokens") is { } addedTokens)
            {
                j.Array(addedTokens, "added_tokens");
                var k = 0;
                foreach (var t in addedTokens.EnumerateArray())
                {
                    var path = $"added_tokens[{k++}]";
                    j.Object(t, path);
                    var id = j.Int(j.Require(t, "id", path), $"{path}.id");
                    var content = j.String(j.Require(t, "content", path), $"{path}.content");
                    var special = j.OptionalBool(t, "special", path) ?? false;
                    if (id is < 0 or >= MaxVocabSize) throw j.Bad($"{path}.id", IdRange(id));
                    added.Add((id, content, special));
                    byId[id] = content; // an added token's text is what HF matches, should the vocab disagree
                }
            }

            var count = byId.Count == 0 ? 0 : byId.Keys.Max() + 1;
            if (vocabSize is { } vs)
            {
                if (vs < count) throw j.Bad("model.vocab", $"uses ids up to {count - 1} but the model's vocabulary has {vs} entries");
                count = vs;
            }
            if (count == 0) throw j.Bad("model.vocab", "is empty");
            // Without the model's size to vouch for them, holes may not outnumber the named ids: a stray
            // huge id would otherwise fill the vocabulary with millions of padding tokens.
            if (vocabSize is null && count > 2L * byId.Count)
                throw j.Bad("model.vocab", $"ids reach {count - 1} but only {byId.Count} are named (the ids are not dense; expected ids 0 .. n−1)");

            var tokens = new string[count];
            var types = new TokenType[count];
            for (var id = 0; id < count; id++)
            {
                if (byId.TryGetValue(id, out var text)) (tokens[id], types[id]) = (text, TokenType.Normal);
                else (tokens[id], types[id]) = ($"[PAD{id}]", TokenType.Unused);
            }
            var idOf = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var id = 0; id < count; id++) idOf.TryAdd(tokens[id], id);

            // ---- merges: "a b" strings (tokenizers < 0.20) or ["a", "b"] pairs ----
            var mergesJson = j.Array(j.Require(model, "merges", "model"), "model.merges");
            var merges = new string[mergesJson.GetArrayLength()];
            var m = 0;
            foreach (var e in mergesJson.EnumerateArray())
            {
                var path = $"model.merges[{m}]";
                string left, right;
                if (e.ValueKind == JsonValueKind.String)
                {
                    var s = e.GetString()!;
                    var sp = s.Length > 1 ? s.IndexOf(' ', 1) : -1;
                    if (sp < 0) throw j.Bad(path, $"'{s}' is not two tokens separated by a space");
                    (left, right) = (s[..sp], s[(sp + 1)..]);
                }
                else
                {
                    j.Array(e, path);
                    if (e.GetArrayLength() != 2) throw j.Bad(path, $"has {e.GetArrayLength()} elements, expected 2");
                    (left, right) = (j.String(e[0], $"{path}[0]"), j.String(e[1], $"{path}[1]"));
                    if (left.Length == 0 || right.Length == 0 || left.IndexOf(' ', 1) >= 0)
                        throw j.Bad(path, $"['{left}', '{right}'] cannot be written as a GGUF merge (empty part or space in the left part)");
                }
                merges[m++] = $"{left} {right}";
            }

            // ---- which kind of BPE ----
            var preTokenizer = j.Get(root, "pre_tokenizer");
            var byteLevels = Components(preTokenizer, "pre_tokenizer", "pretokenizers").Where(c => TypeOf(c.Element) == "ByteLevel").ToList();
            var byteFallback = j.OptionalBool(model, "byte_fallback", "model") ?? false;
            var metaspace = Components(preTokenizer, "pre_tokenizer", "pretokenizers").FirstOrDefault(c => TypeOf(c.Element) == "Metaspace");
            var normalizers = Components(j.Get(root, "normalizer"), "normalizer", "normalizers").ToList();
            var replacesSpace = normalizers.Any(c => TypeOf(c.Element) == "Replace" && ReplaceIs(c.Element, " ", Space.ToString()));
            var spmLike = byteFallback || metaspace.Path is not null || replacesSpace;

            if (byteLevels.Count > 0 && spmLike)
                throw new NotSupportedException($"{source}: tokenizer mixes a ByteLevel pre-tokenizer with SentencePiece-style settings");
            if (byteLevels.Count == 0 && !spmLike)
                throw new NotSupportedException($"{source}: BPE tokenizer is neither byte-level (ByteLevel pre-tokenizer) nor SentencePiece-style (byte_fallback / ▁)");

            var unkText = j.OptionalString(model, "unk_token", "model");
            foreach (var (id, _, special) in added) types[id] = special ? TokenType.Control : TokenType.UserDefined;
            if (unkText is not null && idOf.TryGetValue(unkText, out var unkFromModel)) types[unkFromModel] = TokenType.Unknown;

            var kind = byteLevels.Count > 0 ? TokenizerKind.ByteLevelBpe : TokenizerKind.SentencePieceBpe;
            float[]? scores = null;
            string? preName = null;
            var addSpacePrefix = false;
            if (kind == TokenizerKind.SentencePieceBpe)
            {
                if (byteFallback)
                    for (var id = 0; id < count; id++)
                        if (types[id] == TokenType.Normal && Tokenizer.TryParseBytePiece(tokens[id], out _)) types[id] = TokenType.Byte;
                scores = ScoresFromMerges(tokens, idOf, merges);
                addSpacePrefix = normalizers.Any(c => TypeOf(c.Element) == "Prepend" && j.OptionalString(c.Element, "prepend", c.Path) == Space.ToString())
                    || (metaspace.Path is not null && MetaspacePrepends(metaspace.Element, metaspace.Path));
            }
            else
            {
                preName = ByteLevelPreTokenizerName(Components(preTokenizer, "pre_tokenizer", "pretokenizers").ToList(), byteLevels);
            }

            // ---- special tokens: tokenizer_config.json, then generation_config.json, then conventions ----
            var spm = kind == TokenizerKind.SentencePieceBpe;
            var template = TemplateSpecialTokens(j.Get(root, "post_processor"), idOf);
            int Resolve(string? text, string what)
            {
                if (text is null) return -1;
                return idOf.TryGetValue(text, out var id) ? id : throw (config?.Bad(what, $"token '{text}' is not in the vocabulary") ?? j.Bad(what, "unknown token"));
            }
            int? GenerationId(string name)
            {
                var id = generation is { } g ? g.FirstId(g.Root, name) : null;
                return id is { } v && (v < 0 || v >= count) ? throw generation!.Value.Bad(name, $"id {v} is outside the vocabulary of {count}") : id;
            }

            int bos, eos, unk, pad;
            bos = config is { } c1 && c1.TokenText(c1.Root, "bos_token") is { } bosText ? Resolve(bosText, "bos_token")
                : GenerationId("bos_token_id") ?? template.First ?? (spm ? idOf.GetValueOrDefault("<s>", -1) : -1);
            eos = config is { } c2 && c2.TokenText(c2.Root, "eos_token") is { } eosText ? Resolve(eosText, "eos_token")
                : GenerationId("eos_token_id") ?? (spm ? idOf.GetValueOrDefault("</s>", -1) : -1);
            unk = config is { } c3 && c3.TokenText(c3.Root, "unk_token") is { } unkCfg ? Resolve(unkCfg, "unk_token")
                : unkText is not null && idOf.TryGetValue(unkText, out var u) ? u : -1;
            pad = config is { } c4 && c4.TokenText(c4.Root, "pad_token") is { } padText ? Resolve(padText, "pad_token")
                : GenerationId("pad_token_id") ?? -1;
            if (unk >= 0 && types[unk] == TokenType.Normal) types[unk] = TokenType.Unknown;

            var addBos = (config is { } c5 ? c5.OptionalBool(c5.Root, "add_bos_token", "$") : null)
                ?? (template.Found ? template.First is not null : spm);
            var addEos = (config is { } c6 ? c6.OptionalBool(c6.Root, "add_eos_token", "$") : null)
                ?? (template.Found && template.Last is not null);

            var spec = new TokenizerSpec
            {
                Kind = kind,
                Tokens = tokens,
                Scores = scores,
                Types = types,
                Merges = spm ? null : merges,
                BosId = bos,
                EosId = eos,
                UnkId = unk,
                PadId = pad,
                AddBos = addBos,
                AddEos = addEos,
                AddSpacePrefix = addSpacePrefix,
                PreTokenizer = preName,
                ChatTemplate = (config is { } c7 ? ChatTemplateOf(c7) : null) ?? chatTemplateFile,
            };
            spec.Validate(source);
            return spec;
        }

        /// <summary>Flattens a component that may be a "Sequence" of components under <paramref name="listName"/>.</summary>
        private IEnumerable<(JsonElement Element, string Path)> Components(JsonElement? e, string path, string listName)
        {
            if (e is null) yield break;
            var el = _json.Object(e.Value, path);
            if (TypeOf(el) == "Sequence")
            {
                var list = _json.Array(_json.Require(el, listName, path), $"{path}.{listName}");
                var i = 0;
                foreach (var child in list.EnumerateArray())
                    foreach (var c in Components(child, $"{path}.{listName}[{i++}]", listName)) yield return c;
            }
            else yield return (el, path);
        }

        private static string? TypeOf(JsonElement e) =>
            e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

        private static bool ReplaceIs(JsonElement e, string from, string to) =>
            e.TryGetProperty("pattern", out var p) && p.ValueKind == JsonValueKind.Object
            && p.TryGetProperty("String", out var s) && s.ValueKind == JsonValueKind.String && s.GetString() == from
            && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String && c.GetString() == to;

        private bool MetaspacePrepends(JsonElement e, string path)
        {
            var scheme = _json.OptionalString(e, "prepend_scheme", path);
            if (scheme is not null) return scheme != "never";
            return _json.OptionalBool(e, "add_prefix_space", path) ?? true;
        }

        private string ByteLevelPreTokenizerName(List<(JsonElement Element, string Path)> parts, List<(JsonElement Element, string Path)> byteLevels)
        {
            var splits = new List<string>();
            foreach (var (el, path) in parts)
            {
                switch (TypeOf(el))
                {
                    case "ByteLevel": break;
                    case "Split":
                        var pattern = _json.Object(_json.Require(el, "pattern", path), $"{path}.pattern");
                        var regex = _json.Get(pattern, "Regex") ?? _json.Get(pattern, "String")
                            ?? throw _json.Bad($"{path}.pattern", "has neither Regex nor String");
                        splits.Add(_json.String(regex, $"{path}.pattern"));
                        break;
                    case var other:
                        throw new NotSupportedException($"{source}: {path}: pre-tokenizer '{other}' is not supported with ByteLevel");
                }
            }
            var byteLevelRegex = byteLevels.Any(b => _json.OptionalBool(b.Element, "use_regex", b.Path) ?? true);

            if (splits.Count == 0 && byteLevelRegex) return "gpt-2";
            if (!byteLevelRegex && splits.Count == 1 && splits[0] == ByteLevelPreTokenizer.Llama3Pattern) return "llama-bpe";
            if (!byteLevelRegex && splits.Count == 6 && splits[0] == "[\r\n]" && splits[1].StartsWith(@"\s?[A-Za-z", StringComparison.Ordinal)
                && splits[2].StartsWith(@"\s?[!-/:-~", StringComparison.Ordinal) && splits[3] == @"\s+$" && splits[5] == @"\p{N}+")
                return "deepseek-llm";
            throw new NotSupportedException(
                $"{source}: byte-level pre-tokenizer regex is not one llama.cpp names here (gpt-2, llama-bpe, deepseek-llm): "
                + string.Join(" | ", splits.Select(s => JsonSerializer.Serialize(s))));
        }

        /// <summary>The special tokens a TemplateProcessing post-processor puts around a single sequence.</summary>
        private (bool Found, int? First, int? Last) TemplateSpecialTokens(JsonElement? postProcessor, Dictionary<string, int> idOf)
        {
            foreach (var (el, path) in Components(postProcessor, "post_processor", "processors"))
            {
                if (TypeOf(el) != "TemplateProcessing") continue;
                var single = _json.Array(_json.Require(el, "single", path), $"{path}.single");
                var items = single.EnumerateArray().ToList();
                int? SpecialAt(int i)
                {
                    if (i < 0 || i >= items.Count || _json.Get(items[i], "SpecialToken") is not { } st) return null;
                    var name = _json.String(_json.Require(st, "id", $"{path}.single[{i}].SpecialToken"), $"{path}.single[{i}].SpecialToken.id");
                    // special_tokens maps the template name to its ids; usually the name is the token text.
                    if (_json.Get(el, "special_tokens") is { } map && _json.Get(map, name) is { } entry
                        && _json.Get(entry, "ids") is { ValueKind: JsonValueKind.Array } ids && ids.GetArrayLength() == 1)
                        return _json.Int(ids[0], $"{path}.special_tokens.{name}.ids[0]");
                    return idOf.TryGetValue(name, out var id) ? id : throw _json.Bad($"{path}.single[{i}]", $"special token '{name}' is not in the vocabulary");
                }
                var first = SpecialAt(0);
                var last = items.Count > 1 ? SpecialAt(items.Count - 1) : null;
                return (true, first, last);
            }
            return (false, null, null);
        }

        private static string? ChatTemplateOf(Json config)
        {
            var t = config.Get(config.Root, "chat_template");
            if (t is null) return null;
            if (t.Value.ValueKind == JsonValueKind.String) return t.Value.GetString();
            // A list of named templates: take "default", else the first.
            var list = config.Array(t.Value, "chat_template");
            string? first = null;
            var i = 0;
            foreach (var item in list.EnumerateArray())
            {
                var path = $"chat_template[{i++}]";
                var name = config.OptionalString(item, "name", path);
                var template = config.String(config.Require(item, "template", path), $"{path}.template");
                if (name == "default") return template;
                first ??= template;
            }
            return first;
        }
    }

    /// <summary>
    /// Scores for SentencePiece BPE from ranked merges: a piece scores −(rank of the first merge that
    /// produces it), so "highest score wins" replays "lowest rank wins". Pieces no merge produces get
    /// scores below every merge (they are single characters, bytes and specials in practice).
    /// </summary>
    internal static float[] ScoresFromMerges(string[] tokens, Dictionary<string, int> idOf, string[] merges)
    {
        var scores = new float[tokens.Length];
        var scored = new bool[tokens.Length];
        for (var rank = 0; rank < merges.Length; rank++)
        {
            var sp = merges[rank].IndexOf(' ', 1);
            var joined = string.Concat(merges[rank].AsSpan(0, sp), merges[rank].AsSpan(sp + 1));
            if (idOf.TryGetValue(joined, out var id) && !scored[id])
            {
                scores[id] = -rank;
                scored[id] = true;
            }
        }
        for (var id = 0; id < tokens.Length; id++)
            if (!scored[id]) scores[id] = -(merges.Length + id);
        return scores;
    }
}
