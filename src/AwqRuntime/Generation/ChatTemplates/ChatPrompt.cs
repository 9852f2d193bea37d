using System.Globalization;
using System.Text;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// A rendered conversation and its token ids, ready for prefill. Special tokens the template writes
/// (<c>&lt;|im_start|&gt;</c>, <c>[INST]</c> where it is a control token, the BOS text) become their ids;
/// the same texts typed inside a message do not: a user who writes <c>&lt;|im_end|&gt;</c> gets those
/// characters tokenized as text, so the turn does not end.
/// </summary>
/// <remarks>
/// The approach is transformers' (utils/chat_template_utils.py, sanitize_chat_input /
/// resolve_sanitization_placeholders / split_at_trusted_special_tokens): before rendering, every
/// occurrence of a control token's text inside the messages and tools is replaced by a unique
/// placeholder of digits (digits survive trim, upper, tojson and the like); after rendering the
/// placeholders are put back and remembered as untrusted spans. The text is then cut at the control
/// tokens outside those spans, as llama.cpp's tokenizer_st_partition cuts it with parse_special on, and
/// every piece between them is encoded as plain text. With no control-token text in the messages the ids
/// are exactly <c>Encode(text, parseSpecial: true)</c>.
/// </remarks>
public sealed class ChatPrompt
{
    private ChatPrompt(string text, int[] ids, IReadOnlyList<(int Start, int Length)> untrusted)
    {
        Text = text;
        Ids = ids;
        UntrustedSpecialText = untrusted;
    }

    /// <summary>The rendered prompt.</summary>
    public string Text { get; }

    /// <summary>Its token ids (with BOS in front where the vocabulary wants one and the template did not write it).</summary>
    public int[] Ids { get; }

    /// <summary>Where <see cref="Text"/> holds control-token text that came from a message and was encoded as plain text.</summary>
    public IReadOnlyList<(int Start, int Length)> UntrustedSpecialText { get; }

    /// <summary>
    /// Renders and tokenizes. <paramref name="addBos"/>: null (the default) prepends BOS when the
    /// vocabulary adds one (<see cref="TokenizerSpec.AddBos"/>) and the rendered text does not already
    /// start with it, as llama.cpp's server does; true always ensures it; false never adds it
    /// (transformers' apply_chat_template(tokenize=True)).
    /// </summary>
    public static ChatPrompt Build(ChatTemplate template, IReadOnlyList<ChatMessage> messages, ChatTemplateOptions options,
        ITokenizer tokenizer, bool? addBos = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var spec = tokenizer.Spec;
        var controls = ControlTexts(spec);
        var variables = ChatTemplate.Variables(messages, options);

        var prefix = PlaceholderPrefix(template.Source, variables);
        var originals = new List<string>();
        if (controls.Length > 0)
        {
            variables["messages"] = Sanitize(variables["messages"], controls, prefix, originals);
            variables["tools"] = Sanitize(variables["tools"], controls, prefix, originals);
        }
        var rendered = template.RenderValues(variables, options.Now);
        var (text, untrusted) = Restore(rendered, prefix, originals);
        var ids = Tokenize(text, untrusted, tokenizer);

        var wantBos = addBos ?? spec.AddBos;
        if (wantBos && spec.BosId >= 0 && (ids.Count == 0 || ids[0] != spec.BosId)) ids.Insert(0, spec.BosId);
        return new ChatPrompt(text, ids.ToArray(), untrusted);
    }

    // One scan of the vocabulary per tokenizer, not one per prompt (a server builds a prompt per request).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<TokenizerSpec, string[]> ControlTextCache = new();

    /// <summary>Texts that parse_special turns into ids: control and unknown tokens, longest first.</summary>
    private static string[] ControlTexts(TokenizerSpec spec) => ControlTextCache.GetValue(spec, ScanControlTexts);

    private static string[] ScanControlTexts(TokenizerSpec spec)
    {
        var list = new List<string>();
        for (var id = 0; id < spec.VocabSize; id++)
            if (spec.Types[id] is TokenType.Control or TokenType.Unknown && spec.Tokens[id].Length > 0) list.Add(spec.Tokens[id]);
        return list.Distinct(StringComparer.Ordinal).OrderByDescending(t => t.Length).ToArray();
    }

    /// <summary>Ten digits that occur nowhere in the template or its inputs, so every later occurrence is ours.</summary>
    private static string PlaceholderPrefix(string source, Dictionary<string, object?> variables)
    {
        var haystack = new StringBuilder(source);
        foreach (var v in variables.Values) AppendStrings(v, haystack);
        var all = haystack.ToString();
        var rng = new Random(0x5EED);
        while (true)
        {
            var prefix = rng.NextInt64(1_000_000_000L, 10_000_000_000L).ToString(CultureInfo.InvariantCulture);
            if (!all.Contains(prefix, StringComparison.Ordinal)) return prefix;
        }
    }

    private static void AppendStrings(object? v, StringBuilder sb)
    {
        switch (v)
        {
            case string s: sb.Append('\0').Append(s); break;
            case List<object?> list: foreach (var x in list) AppendStrings(x, sb); break;
            case DictValue d:
                foreach (var (k, x) in d)
                {
                    AppendStrings(DictValue.FromKey(k), sb);
                    AppendStrings(x, sb);
                }
                break;
        }
    }

    /// <summary>A copy of <paramref name="v"/> with every control-token text inside its strings replaced by a placeholder.</summary>
    private static object? Sanitize(object? v, string[] controls, string prefix, List<string> originals)
    {
        switch (v)
        {
            case string s:
                return SanitizeString(s, controls, prefix, originals);
            case List<object?> list:
                return list.Select(x => Sanitize(x, controls, prefix, originals)).ToList();
            case DictValue d:
                var copy = new DictValue();
                foreach (var (k, x) in d) copy[k] = Sanitize(x, controls, prefix, originals);
                return copy;
            default:
                return v;
        }
    }

    private static string SanitizeString(string s, string[] controls, string prefix, List<string> originals)
    {
        if (s.Length == 0) return s;
        StringBuilder? sb = null;
        var i = 0;
        var copied = 0;
        while (i < s.Length)
        {
            string? hit = null;
            foreach (var c in controls)
                if (i + c.Length <= s.Length && string.CompareOrdinal(s, i, c, 0, c.Length) == 0) { hit = c; break; }
            if (hit is null) { i++; continue; }
            sb ??= new StringBuilder(s.Length + 16);
            sb.Append(s, copied, i - copied);
            sb.Append(prefix).Append(originals.Count.ToString("D6", CultureInfo.InvariantCulture));
            originals.Add(hit);
            i += hit.Length;
            copied = i;
        }
        return sb is null ? s : sb.Append(s, copied, s.Length - copied).ToString();
    }

    private static (string Text, List<(int Start, int Length)> Spans) Restore(string rendered, string prefix, List<string> originals)
    {
        var spans = new List<(int, int)>();
        if (originals.Count == 0) return (rendered, spans);
        var sb = new StringBuilder(rendered.Length);
        var i = 0;
        while (true)
        {
            var at = rendered.IndexOf(prefix, i, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(rendered, i, at - i);
            var digits = at + prefix.Length;
            if (digits + 6 > rendered.Length
                || !int.TryParse(rendered.AsSpan(digits, 6), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                || index >= originals.Count)
                throw new ChatTemplateException("the template changed a message's text in a way the prompt builder cannot follow (special-token text in a message)");
            spans.Add((sb.Length, originals[index].Length));
            sb.Append(originals[index]);
            i = digits + 6;
        }
        sb.Append(rendered, i, rendered.Length - i);
        return (sb.ToString(), spans);
    }

    /// <summary>Control tokens outside the untrusted spans become ids; everything between them is encoded as text.</summary>
    private static List<int> Tokenize(string text, List<(int Start, int Length)> untrusted, ITokenizer tokenizer)
    {
        var spec = tokenizer.Spec;
        var fragments = new SpecialTokenMatcher(spec).Split(text, parseSpecial: true);
        var ids = new List<int>();
        var runStart = -1;
        var runEnd = -1;
        void Flush()
        {
            if (runStart < 0) return;
            ids.AddRange(tokenizer.Encode(text[runStart..runEnd], addBos: false, parseSpecial: false));
            runStart = -1;
        }
        foreach (var f in fragments)
        {
            var trusted = f.IsToken && spec.Types[f.TokenId] is TokenType.Control or TokenType.Unknown
                && !untrusted.Any(s => s.Start < f.Start + f.Length && f.Start < s.Start + s.Length);
            if (trusted)
            {
                Flush();
                ids.Add(f.TokenId);
                continue;
            }
            if (runStart < 0) runStart = f.Start;
            runEnd = f.Start + f.Length;
        }
        Flush();
        return ids;
    }
}
