using AwqRuntime.Evaluation;

namespace AwqRuntime.Comparison;

/// <summary>
/// The reference source, remembering its last window so the reference's own row (PPL of FP32, KLD 0
/// by definition) is scored without running the model twice.
/// </summary>
internal sealed class RecordingLogitsSource(ILogitsSource inner) : ILogitsSource
{
    private int[] _tokens = [];
    private float[] _logits = [];

    public string Name => inner.Name;

    public int VocabSize => inner.VocabSize;

    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        inner.Evaluate(tokens, logits);
        _tokens = tokens.ToArray();
        var n = tokens.Length * VocabSize;
        if (_logits.Length < n) _logits = new float[n];
        logits[..n].CopyTo(_logits);
    }

    /// <summary>A source that answers with the recorded window (it must be the window just evaluated).</summary>
    public ILogitsSource Replay(string name) => new ReplaySource(this, name);

    private sealed class ReplaySource(RecordingLogitsSource owner, string name) : ILogitsSource
    {
        public string Name => name;

        public int VocabSize => owner.VocabSize;

        public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
        {
            if (!tokens.SequenceEqual(owner._tokens))
                throw new InvalidOperationException("the reference replay was asked for a window the reference has not just evaluated");
            owner._logits.AsSpan(0, tokens.Length * VocabSize).CopyTo(logits);
        }
    }
}
