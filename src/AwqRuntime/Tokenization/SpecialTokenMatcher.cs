using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// Cuts special tokens out of the input before BPE, as llama.cpp's tokenizer_st_partition does:
/// candidates are control, unknown and user-defined tokens, longest text (in UTF-8 bytes) first; each
/// candidate in turn splits every remaining text fragment at all of its occurrences. Control and
/// unknown tokens take part only when parse_special is on; user-defined tokens always do (as in
/// Hugging Face tokenizers, where added tokens are matched before the model runs).
/// </summary>
internal sealed class SpecialTokenMatcher
{
    private readonly (string Text, int Id, bool Always)[] _candidates;

    public SpecialTokenMatcher(TokenizerSpec spec)
    {
        var list = new List<(string Text, int Id, bool Always, int Bytes)>();
        for (var id = 0; id < spec.VocabSize; id++)
        {
            var type = spec.Types[id];
            var text = spec.Tokens[id];
            if (text.Length == 0) continue;
            if (type is TokenType.Control or TokenType.Unknown) list.Add((text, id, false, Encoding.UTF8.GetByteCount(text)));
            else if (type == TokenType.UserDefined) list.Add((text, id, true, Encoding.UTF8.GetByteCount(text)));
        }
        // llama.cpp sorts by length only (std::sort, unstable); ties are broken by id here so the order is defined.
        _candidates = list.OrderByDescending(c => c.Bytes).ThenBy(c => c.Id).Select(c => (c.Text, c.Id, c.Always)).ToArray();
    }

    public List<TextFragment> Split(string text, bool parseSpecial)
    {
        var fragments = new List<TextFragment> { new(0, text.Length, -1) };
        foreach (var (token, id, always) in _candidates)
        {
            if (!always && !parseSpecial) continue;
            // Cheap rejection first: most candidates never occur in a given text.
            if (text.IndexOf(token, StringComparison.Ordinal) < 0) continue;

            var next = new List<TextFragment>(fragments.Count + 2);
            foreach (var f in fragments)
            {
                if (f.IsToken) { next.Add(f); continue; }
                var start = f.Start;
                var end = f.Start + f.Length;
                while (start < end)
                {
                    var at = text.AsSpan(start, end - start).IndexOf(token, StringComparison.Ordinal);
                    if (at < 0) break;
                    if (at > 0) next.Add(new TextFragment(start, at, -1));
                    next.Add(new TextFragment(start + at, token.Length, id));
                    start += at + token.Length;
                }
                if (start < end) next.Add(new TextFragment(start, end - start, -1));
            }
            fragments = next;
        }
        return fragments;
    }
}
