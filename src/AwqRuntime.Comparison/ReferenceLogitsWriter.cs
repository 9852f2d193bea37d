using AwqRuntime.Evaluation;

namespace AwqRuntime.Comparison;

/// <summary>
/// The reference source during its one pass over the windows: answers as <paramref name="inner"/>
/// does and stores each window's scored rows in <paramref name="file"/>. Windows must come in order
/// (as <see cref="Evaluator.Compare"/> asks for them); a window out of order is an error, not a
/// silently misfiled one.
/// </summary>
internal sealed class ReferenceLogitsWriter(ILogitsSource inner, ReferenceLogitsFile file, IReadOnlyList<EvalWindow> windows) : ILogitsSource
{
    private int _next;

    public string Name => inner.Name;

    public int VocabSize => inner.VocabSize;

    /// <summary>Windows stored so far.</summary>
    public int Written => _next;

    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        if (_next >= windows.Count || !tokens.SequenceEqual(windows[_next].Tokens))
            throw new InvalidOperationException($"the reference was asked for a window other than window {_next} of {windows.Count}");
        inner.Evaluate(tokens, logits);
        var w = windows[_next];
        file.Write(_next, logits.Slice(w.FirstScored * VocabSize, w.ScoredCount * VocabSize));
        _next++;
    }
}
