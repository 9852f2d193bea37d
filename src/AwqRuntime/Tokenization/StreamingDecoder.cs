using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// Turns token ids arriving one at a time (generation) into text, emitting only complete characters:
/// a character whose UTF-8 bytes are spread over several byte-fallback tokens ("&lt;0xF0&gt;&lt;0x9F&gt;...")
/// comes out whole once its last byte arrives, never as U+FFFD halves. Bytes that can never form a
/// character are emitted as U+FFFD as soon as that is certain. The concatenation of everything
/// returned (including <see cref="Flush"/>) equals <see cref="ITokenizer.Decode(ReadOnlySpan{int}, bool, bool)"/>
/// of the same ids. Not thread-safe: one instance per stream.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _renderSpecial;
    private Decoder _utf8;
    private bool _stripLeadingSpace;
    private char[] _chars = new char[64];

    /// <param name="tokenizer">A tokenizer made by <see cref="Tokenizer.FromSpec"/>.</param>
    /// <param name="atSequenceStart">True when the first id is the start of the text (after BOS): the
    /// SentencePiece dummy-prefix space of the first piece is then dropped. False for a continuation.</param>
    /// <param name="renderSpecial">Emit control tokens' text ("&lt;/s&gt;") instead of nothing.</param>
    public StreamingDecoder(ITokenizer tokenizer, bool atSequenceStart = true, bool renderSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        _tokenizer = tokenizer as Tokenizer
            ?? throw new ArgumentException("StreamingDecoder needs a tokenizer made by Tokenizer.FromSpec", nameof(tokenizer));
        _renderSpecial = renderSpecial;
        _utf8 = NewDecoder();
        _stripLeadingSpace = atSequenceStart && tokenizer.Spec.AddSpacePrefix;
    }

    /// <summary>Adds one token; returns the text it completes (often empty while a character is pending).</summary>
    public string Append(int id)
    {
        var bytes = _tokenizer.PieceForDecode(id, _renderSpecial, ref _stripLeadingSpace);
        if (bytes.Length == 0) return "";
        var max = _utf8.GetCharCount(bytes, flush: false);
        if (_chars.Length < max) _chars = new char[Math.Max(max, _chars.Length * 2)];
        var n = _utf8.GetChars(bytes, _chars, flush: false);
        return new string(_chars, 0, n);
    }

    /// <summary>Ends the stream: bytes of an unfinished character come out as U+FFFD.</summary>
    public string Flush()
    {
        var n = _utf8.GetChars(ReadOnlySpan<byte>.Empty, _chars, flush: true);
        return new string(_chars, 0, n);
    }

    /// <summary>Starts a new stream (pending bytes are discarded).</summary>
    public void Reset(bool atSequenceStart = true)
    {
        _utf8 = NewDecoder();
        _stripLeadingSpace = atSequenceStart && _tokenizer.Spec.AddSpacePrefix;
    }

    /// <summary>True while part of a character is waiting for its remaining bytes.</summary>
    /// <remarks>GetCharCount does not change the decoder's state; with flush it counts the U+FFFD a flush would emit.</remarks>
    public bool HasPendingBytes => _utf8.GetCharCount(ReadOnlySpan<byte>.Empty, flush: true) > 0;

    private static Decoder NewDecoder() => new UTF8Encoding(false, false).GetDecoder();
}
