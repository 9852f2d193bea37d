using System.Text;

namespace AwqRuntime.LlamaSharp;

// Tokenization through llama.cpp's own tokenizer (the vocabulary embedded in the GGUF).
public sealed partial class LlamaCppModel
{
    /// <summary>
    /// Tokenizes UTF-8 text with llama.cpp's tokenizer. <paramref name="parseSpecial"/> lets text such as
    /// "&lt;s&gt;" become the control token instead of its characters.
    /// </summary>
    public int[] Tokenize(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        ThrowIfDisposed();
        var tokens = _weights.NativeHandle.Tokenize(text, addBos, parseSpecial, Encoding.UTF8);
        var ids = new int[tokens.Length];
        for (var i = 0; i < ids.Length; i++) ids[i] = (int)tokens[i];
        return ids;
    }

    /// <summary>
    /// The bytes one token stands for (a byte-fallback token is a single, possibly partial UTF-8 byte).
    /// Control tokens give no bytes unless <paramref name="renderSpecial"/> is set.
    /// </summary>
    public byte[] TokenToPiece(int token, bool renderSpecial = false)
    {
        ThrowIfDisposed();
        ValidateTokens([token], nameof(token));
        Span<byte> buffer = stackalloc byte[64];
        var length = (int)_weights.NativeHandle.TokenToSpan(token, buffer, 0, renderSpecial);
        if (length <= buffer.Length) return buffer[..length].ToArray();
        var large = new byte[length];
        _weights.NativeHandle.TokenToSpan(token, large, 0, renderSpecial);
        return large;
    }

    /// <summary>
    /// Text of a token sequence by llama.cpp's llama_detokenize. For SentencePiece vocabularies the
    /// leading space of the first piece is dropped when that piece comes first (no BOS in front), as
    /// llama.cpp and llama2.c print a story. <paramref name="removeSpecial"/> drops a leading BOS (and
    /// a trailing EOS where the vocabulary adds one) but keeps the space after it;
    /// <paramref name="unparseSpecial"/> renders control tokens as their text ("&lt;s&gt;").
    /// </summary>
    public unsafe string Detokenize(ReadOnlySpan<int> tokens, bool removeSpecial = false, bool unparseSpecial = false)
    {
        ThrowIfDisposed();
        ValidateTokens(tokens, nameof(tokens));
        if (tokens.Length == 0) return "";
        var vocab = _vocab;
        var size = Math.Max(64, tokens.Length * 8);
        while (true)
        {
            var buffer = new byte[size];
            int written;
            fixed (int* ids = tokens)
            fixed (byte* text = buffer)
                written = LlamaCppNativeMethods.llama_detokenize(vocab, ids, tokens.Length, text, buffer.Length, removeSpecial, unparseSpecial);
            // A negative result is the size llama.cpp needs.
            if (written >= 0) return Encoding.UTF8.GetString(buffer, 0, written);
            if (-written <= size) throw new LlamaCppException($"llama_detokenize returned {written} for a {size}-byte buffer", Path);
            size = -written;
        }
    }
}
