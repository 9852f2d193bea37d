using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// What the two encoders share: special-token partitioning of the input (llama.cpp's
/// tokenizer_st_partition), the byte string of every token, and decoding. <see cref="FromSpec"/>
/// picks the encoder for a vocabulary. Instances are immutable and safe to use from several threads.
/// </summary>
public abstract class Tokenizer : ITokenizer
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private readonly byte[][] _bytes;
    private readonly byte[][] _specialBytes;
    private readonly SpecialTokenMatcher _special;

    protected Tokenizer(TokenizerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate("tokenizer spec");
        Spec = spec;
        _bytes = new byte[spec.VocabSize][];
        _specialBytes = new byte[spec.VocabSize][];
        for (var id = 0; id < spec.VocabSize; id++)
        {
            var text = spec.Tokens[id];
            switch (spec.Types[id])
            {
                case TokenType.Control or TokenType.Unknown:
                    _bytes[id] = [];
                    _specialBytes[id] = Utf8.GetBytes(text);
                    break;
                case TokenType.UserDefined:
                    // llama.cpp emits user-defined tokens verbatim (no ▁ or byte-level decoding).
                    _bytes[id] = _specialBytes[id] = Utf8.GetBytes(text);
                    break;
                case TokenType.Unused:
                    _bytes[id] = _specialBytes[id] = [];
                    break;
                // "<0xNN>" byte pieces decode to their byte. (llama.cpp gives a BYTE-typed token in a
                // byte-level vocabulary no text at all; such vocabularies do not have them in practice.)
                case TokenType.Byte when TryParseBytePiece(text, out var b):
                    _bytes[id] = _specialBytes[id] = [b];
                    break;
                default:
                    _bytes[id] = _specialBytes[id] = NormalTokenBytes(text);
                    break;
            }
        }
        _special = new SpecialTokenMatcher(spec);
    }

    public TokenizerSpec Spec { get; }

    /// <summary>The encoder for the vocabulary's kind (SentencePiece BPE or byte-level BPE).</summary>
    public static ITokenizer FromSpec(TokenizerSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Kind switch
        {
            TokenizerKind.SentencePieceBpe => new SentencePieceBpeTokenizer(spec),
            TokenizerKind.ByteLevelBpe => new ByteLevelBpeTokenizer(spec),
            _ => throw new NotSupportedException($"tokenizer kind {spec.Kind} is not supported"),
        };
    }

    /// <summary>Reads a vocabulary file of any supported format (see <see cref="TokenizerFiles.Read"/>) and builds its tokenizer.</summary>
    public static ITokenizer FromFile(string path) => FromSpec(TokenizerFiles.Read(path));

    public int[] Encode(string text, bool addBos, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        text = UnicodeClasses.Sanitize(text);
        var output = new List<int>(text.Length / 3 + 2);
        if (addBos && Spec.BosId >= 0) output.Add(Spec.BosId);
        if (text.Length > 0) EncodeFragments(text, _special.Split(text, parseSpecial), output);
        return output.ToArray();
    }

    /// <summary>Encodes the text fragments in order, emitting the special-token fragments' ids as they are.</summary>
    private protected abstract void EncodeFragments(string text, List<TextFragment> fragments, List<int> output);

    /// <summary>The bytes of a Normal token's text (SentencePiece: ▁ → space; byte-level: alphabet → bytes).</summary>
    private protected abstract byte[] NormalTokenBytes(string text);

    public string Decode(ReadOnlySpan<int> ids) => Decode(ids, atSequenceStart: true, renderSpecial: false);

    public string Decode(ReadOnlySpan<int> ids, bool atSequenceStart, bool renderSpecial)
    {
        var buffer = new List<byte>(ids.Length * 4);
        var strip = atSequenceStart && Spec.AddSpacePrefix;
        foreach (var id in ids)
        {
            var bytes = PieceForDecode(id, renderSpecial, ref strip);
            foreach (var b in bytes) buffer.Add(b);
        }
        return Utf8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(buffer));
    }

    public ReadOnlySpan<byte> TokenBytes(int id, bool renderSpecial = false)
    {
        if ((uint)id >= (uint)_bytes.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"token id is outside the vocabulary of {_bytes.Length} tokens");
        return renderSpecial ? _specialBytes[id] : _bytes[id];
    }

    /// <summary>
    /// A token's bytes in a running decode. The first token that produces any text consumes
    /// <paramref name="stripLeadingSpace"/>: if it is a Normal piece starting with a space (SentencePiece's
    /// dummy prefix "▁"), that space is dropped — what sentencepiece and llama2.c do after BOS.
    /// </summary>
    internal ReadOnlySpan<byte> PieceForDecode(int id, bool renderSpecial, ref bool stripLeadingSpace)
    {
        var bytes = TokenBytes(id, renderSpecial);
        if (bytes.Length == 0 || !stripLeadingSpace) return bytes;
        stripLeadingSpace = false;
        return Spec.Types[id] == TokenType.Normal && bytes[0] == (byte)' ' ? bytes[1..] : bytes;
    }

    /// <summary>"&lt;0xNN&gt;" → NN (the SentencePiece byte-fallback piece text).</summary>
    public static bool TryParseBytePiece(string text, out byte value)
    {
        value = 0;
        if (text.Length != 6 || !text.StartsWith("<0x", StringComparison.Ordinal) || text[5] != '>') return false;
        return byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
    }
}

/// <summary>A piece of the input: raw text [Start, Start+Length) or, when TokenId ≥ 0, a special token.</summary>
internal readonly record struct TextFragment(int Start, int Length, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}
