namespace AwqRuntime.Tokenization;

/// <summary>Text ⇄ token ids for one vocabulary, with llama.cpp's semantics.</summary>
public interface ITokenizer
{
    TokenizerSpec Spec { get; }

    /// <summary>
    /// Token ids for <paramref name="text"/>. <paramref name="addBos"/> prepends the BOS token (when the
    /// vocabulary has one). With <paramref name="parseSpecial"/>, control texts such as "&lt;s&gt;" or
    /// "&lt;|begin_of_text|&gt;" in the text become their ids; without it they are tokenized as text.
    /// User-defined tokens are always matched whole, as in llama.cpp. Lone surrogates become U+FFFD.
    /// </summary>
    int[] Encode(string text, bool addBos, bool parseSpecial = false);

    /// <summary>
    /// The text of a whole sequence: control tokens produce nothing, and (SentencePiece) the dummy-prefix
    /// space of the first piece is removed, so Decode(Encode(x, addBos)) == x.
    /// </summary>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>
    /// Decode with control over the two conventions: <paramref name="atSequenceStart"/> removes the
    /// dummy-prefix space of the first piece (pass false when decoding a continuation), and
    /// <paramref name="renderSpecial"/> writes control tokens' text ("&lt;s&gt;") instead of nothing.
    /// </summary>
    string Decode(ReadOnlySpan<int> ids, bool atSequenceStart, bool renderSpecial);

    /// <summary>The raw bytes one token contributes to the text (UTF-8, possibly a partial character).</summary>
    ReadOnlySpan<byte> TokenBytes(int id, bool renderSpecial = false);
}

public static class TokenizerExtensions
{
    /// <summary>Encodes with the vocabulary's own defaults: BOS if Spec.AddBos, EOS if Spec.AddEos.</summary>
    public static int[] EncodeWithDefaults(this ITokenizer tokenizer, string text, bool parseSpecial = false)
    {
        var ids = tokenizer.Encode(text, tokenizer.Spec.AddBos, parseSpecial);
        if (!tokenizer.Spec.AddEos || tokenizer.Spec.EosId < 0) return ids;
        var withEos = new int[ids.Length + 1];
        ids.CopyTo(withEos, 0);
        withEos[^1] = tokenizer.Spec.EosId;
        return withEos;
    }
}
