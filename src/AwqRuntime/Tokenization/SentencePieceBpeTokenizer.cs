using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// SentencePiece BPE exactly as llama.cpp's llm_tokenizer_spm runs it: spaces become ▁ (with one ▁
/// prepended when add_space_prefix and the fragment starts the text or follows a special token), the
/// symbols start as single characters, and the adjacent pair whose concatenation is a vocabulary piece
/// with the highest score is merged, leftmost first on ties, until no pair is a piece. Symbols left
/// that are not pieces (characters outside the vocabulary) fall back to their UTF-8 bytes as
/// "&lt;0xNN&gt;" pieces. The merge loop uses a linked list of symbols and a priority queue of
/// candidate pairs (stale entries are skipped on pop), so it is O(n log n) in the text length.
/// </summary>
public sealed class SentencePieceBpeTokenizer : Tokenizer
{
    private const char Space = '\u2581';

    private readonly Dictionary<string, int> _pieces;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly float[] _scores;
    private readonly int[] _byteIds;

    public SentencePieceBpeTokenizer(TokenizerSpec spec) : base(spec)
    {
        if (spec.Kind != TokenizerKind.SentencePieceBpe)
            throw new ArgumentException($"vocabulary is {spec.Kind}, not SentencePiece BPE", nameof(spec));
        // llama.cpp's token_to_id: every token (any type) by text; a duplicated text maps to its last id.
        _pieces = new Dictionary<string, int>(spec.VocabSize, StringComparer.Ordinal);
        for (var id = 0; id < spec.VocabSize; id++)
            if (spec.Tokens[id].Length > 0) _pieces[spec.Tokens[id]] = id;
        _lookup = _pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        _scores = spec.Scores ?? new float[spec.VocabSize];

        // llama.cpp's byte_to_token: the "<0xNN>" piece, else the one-byte piece, else (here) unk.
        _byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            if (_pieces.TryGetValue($"<0x{b:X2}>", out var id)) _byteIds[b] = id;
            else if (b < 0x80 && _pieces.TryGetValue(((char)b).ToString(), out id)) _byteIds[b] = id;
            else _byteIds[b] = spec.UnkId;
        }
    }

    private protected override byte[] NormalTokenBytes(string text) => Encoding.UTF8.GetBytes(text.Replace(Space, ' '));

    private protected override void EncodeFragments(string text, List<TextFragment> fragments, List<int> output)
    {
        var previousWasSpecial = true; // the first fragment gets the prefix too, BOS or not
        var session = new Session(this);
        foreach (var f in fragments)
        {
            if (f.IsToken)
            {
                output.Add(f.TokenId);
                previousWasSpecial = true;
                continue;
            }
            var prefix = Spec.AddSpacePrefix && previousWasSpecial;
            var escaped = string.Create(f.Length + (prefix ? 1 : 0), (text, f, prefix), static (span, s) =>
            {
                var offset = 0;
                if (s.prefix) span[offset++] = Space;
                var src = s.text.AsSpan(s.f.Start, s.f.Length);
                for (var i = 0; i < src.Length; i++) span[offset + i] = src[i] == ' ' ? Space : src[i];
            });
            session.Tokenize(escaped, output);
            previousWasSpecial = false;
        }
    }

    /// <summary>Scratch state for one Encode call (the tokenizer itself stays immutable and thread-safe).</summary>
    private sealed class Session(SentencePieceBpeTokenizer owner)
    {
        private int[] _start = [], _len = [], _prev = [], _next = [];
        private readonly PriorityQueue<Bigram, Bigram> _queue = new(BigramOrder.Instance);

        public void Tokenize(string s, List<int> output)
        {
            // Symbols: one per code point (surrogate pairs stay together; the text has no lone surrogates).
            Ensure(s.Length);
            var n = 0;
            for (var i = 0; i < s.Length; n++)
            {
                var len = char.IsHighSurrogate(s[i]) && i + 1 < s.Length ? 2 : 1;
                _start[n] = i;
                _len[n] = len;
                _prev[n] = n - 1;
                _next[n] = n + 1;
                i += len;
            }
            _next[n - 1] = -1;

            _queue.Clear();
            for (var i = 1; i < n; i++) TryAddBigram(s, i - 1, i);

            while (_queue.TryDequeue(out var bigram, out _))
            {
                int l = bigram.Left, r = bigram.Right;
                // Stale: one side was merged away, or the right side grew since this pair was queued.
                if (_len[l] == 0 || _len[r] == 0 || _len[l] + _len[r] != bigram.Size) continue;
                _len[l] += _len[r];
                _len[r] = 0;
                _next[l] = _next[r];
                if (_next[r] >= 0) _prev[_next[r]] = l;
                TryAddBigram(s, _prev[l], l);
                TryAddBigram(s, l, _next[l]);
            }

            Span<byte> utf8 = stackalloc byte[4];
            for (var i = 0; i != -1; i = _next[i])
            {
                var piece = s.AsSpan(_start[i], _len[i]);
                if (owner._lookup.TryGetValue(piece, out var id))
                {
                    output.Add(id);
                    continue;
                }
                // Every merged symbol is a piece, so only single characters get here: byte fallback.
                var count = Encoding.UTF8.GetBytes(piece, utf8);
                for (var k = 0; k < count; k++)
                {
                    var byteId = owner._byteIds[utf8[k]];
                    if (byteId >= 0) output.Add(byteId); // a vocabulary with neither byte pieces nor unk drops the byte
                }
            }
        }

        private void TryAddBigram(string s, int left, int right)
        {
            if (left < 0 || right < 0) return;
            var size = _len[left] + _len[right];
            if (!owner._lookup.TryGetValue(s.AsSpan(_start[left], size), out var id)) return;
            var bigram = new Bigram(left, right, size, owner._scores[id]);
            _queue.Enqueue(bigram, bigram);
        }

        private void Ensure(int n)
        {
            if (_start.Length >= n) return;
            _start = new int[n];
            _len = new int[n];
            _prev = new int[n];
            _next = new int[n];
        }
    }

    private readonly record struct Bigram(int Left, int Right, int Size, float Score);

    /// <summary>Highest score first; on equal scores the leftmost pair (llama.cpp's llm_bigram_spm::comparator).</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram a, Bigram b)
        {
            if (a.Score != b.Score) return a.Score > b.Score ? -1 : 1;
            return a.Left.CompareTo(b.Left);
        }
    }
}
