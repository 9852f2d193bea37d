using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// Byte-level BPE as llama.cpp's llm_tokenizer_bpe runs it (GPT-2, Llama 3, DeepSeek): the text is
/// split into words by the pre-tokenizer named in tokenizer.ggml.pre, each word's UTF-8 bytes are
/// mapped to GPT-2's byte alphabet, and adjacent symbols are merged by merge rank (lowest first,
/// leftmost on ties) until no adjacent pair has a merge. With ignore_merges (Llama 3) a word that is
/// already a token is emitted whole.
/// </summary>
public sealed class ByteLevelBpeTokenizer : Tokenizer
{
    private readonly Dictionary<string, int> _tokens;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _tokenLookup;

    // A merge "a b" is stored under its result "ab" as (length of a, rank): lookups then need no
    // string allocation, only a span of the word. One result can have several splits.
    private readonly Dictionary<string, (int LeftLength, int Rank)[]> _merges;
    private readonly Dictionary<string, (int LeftLength, int Rank)[]>.AlternateLookup<ReadOnlySpan<char>> _mergeLookup;

    public ByteLevelPreTokenizer PreTokenizer { get; }

    public ByteLevelBpeTokenizer(TokenizerSpec spec) : base(spec)
    {
        if (spec.Kind != TokenizerKind.ByteLevelBpe)
            throw new ArgumentException($"vocabulary is {spec.Kind}, not byte-level BPE", nameof(spec));
        PreTokenizer = ByteLevelPreTokenizer.ForName(spec.PreTokenizer);

        _tokens = new Dictionary<string, int>(spec.VocabSize, StringComparer.Ordinal);
        for (var id = 0; id < spec.VocabSize; id++)
            if (spec.Tokens[id].Length > 0) _tokens[spec.Tokens[id]] = id;
        _tokenLookup = _tokens.GetAlternateLookup<ReadOnlySpan<char>>();

        var merges = new Dictionary<string, List<(int, int)>>(spec.Merges!.Length, StringComparer.Ordinal);
        for (var rank = 0; rank < spec.Merges.Length; rank++)
        {
            // llama.cpp splits at the first space after the first character.
            var m = spec.Merges[rank];
            var sp = m.IndexOf(' ', 1);
            var left = m[..sp];
            var joined = string.Concat(left, m.AsSpan(sp + 1));
            if (!merges.TryGetValue(joined, out var list)) merges[joined] = list = [];
            // A repeated merge keeps its first (best) rank, like llama.cpp's bpe_ranks.emplace.
            if (!list.Exists(e => e.Item1 == left.Length)) list.Add((left.Length, rank));
        }
        _merges = merges.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
        _mergeLookup = _merges.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    private protected override byte[] NormalTokenBytes(string text) => ByteLevelAlphabet.Decode(text);

    private protected override void EncodeFragments(string text, List<TextFragment> fragments, List<int> output)
    {
        var session = new Session(this);
        foreach (var f in fragments)
        {
            if (f.IsToken) output.Add(f.TokenId);
            else session.TokenizeText(text.AsSpan(f.Start, f.Length), output);
        }
    }

    private sealed class Session(ByteLevelBpeTokenizer owner)
    {
        private int[] _start = [], _len = [], _prev = [], _next = [];
        private byte[] _utf8 = new byte[64];
        private readonly PriorityQueue<Bigram, Bigram> _queue = new(BigramOrder.Instance);

        public void TokenizeText(ReadOnlySpan<char> text, List<int> output)
        {
            var cps = UnicodeClasses.CodePoints(text);
            var start = 0;
            foreach (var length in owner.PreTokenizer.Split(cps))
            {
                TokenizeWord(ToByteLevel(cps.AsSpan(start, length)), output);
                start += length;
            }
        }

        private string ToByteLevel(ReadOnlySpan<int> cps)
        {
            var needed = cps.Length * 4;
            if (_utf8.Length < needed) _utf8 = new byte[Math.Max(needed, _utf8.Length * 2)];
            var n = 0;
            foreach (var cp in cps) n += new Rune(cp).EncodeToUtf8(_utf8.AsSpan(n));
            return ByteLevelAlphabet.Encode(_utf8.AsSpan(0, n));
        }

        private void TokenizeWord(string word, List<int> output)
        {
            if (owner.PreTokenizer.IgnoreMerges && owner._tokens.TryGetValue(word, out var whole))
            {
                output.Add(whole);
                return;
            }

            // Each byte-level character is one symbol (the alphabet is all BMP, one char per byte).
            var n = word.Length;
            if (_start.Length < n)
            {
                _start = new int[n];
                _len = new int[n];
                _prev = new int[n];
                _next = new int[n];
            }
            for (var i = 0; i < n; i++)
            {
                _start[i] = i;
                _len[i] = 1;
                _prev[i] = i - 1;
                _next[i] = i + 1;
            }
            _next[n - 1] = -1;

            _queue.Clear();
            for (var i = 1; i < n; i++) TryAddBigram(word, i - 1, i);
            while (_queue.TryDequeue(out var bigram, out _))
            {
                int l = bigram.Left, r = bigram.Right;
                if (_len[l] == 0 || _len[r] == 0 || _len[l] != bigram.LeftLength || _len[r] != bigram.RightLength) continue;
                _len[l] += _len[r];
                _len[r] = 0;
                _next[l] = _next[r];
                if (_next[r] >= 0) _prev[_next[r]] = l;
                TryAddBigram(word, _prev[l], l);
                TryAddBigram(word, l, _next[l]);
            }

            for (var i = 0; i != -1; i = _next[i])
            {
                var symbol = word.AsSpan(_start[i], _len[i]);
                if (owner._tokenLookup.TryGetValue(symbol, out var id))
                {
                    output.Add(id);
                    continue;
                }
                // llama.cpp looks up each UTF-8 byte of the symbol's text as a one-byte token; only
                // ASCII bytes can be tokens, the rest are dropped. A well-formed vocabulary never gets here.
                foreach (var c in symbol)
                    if (c < 0x80 && owner._tokenLookup.TryGetValue(new ReadOnlySpan<char>(in c), out id)) output.Add(id);
            }
        }

        private void TryAddBigram(string word, int left, int right)
        {
            if (left < 0 || right < 0) return;
            var leftLength = _len[left];
            var rightLength = _len[right];
            if (!owner._mergeLookup.TryGetValue(word.AsSpan(_start[left], leftLength + rightLength), out var splits)) return;
            foreach (var (splitAt, rank) in splits)
            {
                if (splitAt != leftLength) continue;
                var bigram = new Bigram(left, right, leftLength, rightLength, rank);
                _queue.Enqueue(bigram, bigram);
                return;
            }
        }
    }

    private readonly record struct Bigram(int Left, int Right, int LeftLength, int RightLength, int Rank);

    /// <summary>Lowest rank first; on equal ranks the leftmost pair (llama.cpp's llm_bigram_bpe::comparator).</summary>
    private sealed class BigramOrder : IComparer<Bigram>
    {
        public static readonly BigramOrder Instance = new();

        public int Compare(Bigram a, Bigram b) => a.Rank != b.Rank ? a.Rank.CompareTo(b.Rank) : a.Left.CompareTo(b.Left);
    }
}
