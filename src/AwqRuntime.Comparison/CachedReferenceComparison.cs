using AwqRuntime.Evaluation;

namespace AwqRuntime.Comparison;

/// <summary>
/// One model against the reference logits stored in a <see cref="ReferenceLogitsFile"/>: per window,
/// the reference's scored rows are read back, turned into distributions (<see cref="ReferenceRows"/>)
/// and compared with the model's logits, the arithmetic of <see cref="Evaluator.Compare"/> on the
/// same floats, so the metrics are those of an in-memory comparison to the last digit. Memory: one
/// window of each side.
/// </summary>
internal static class CachedReferenceComparison
{
    public static DistributionComparison Compare(ReferenceLogitsFile reference, ILogitsSource test, IReadOnlyList<EvalWindow> windows,
        IProgress<(int Done, int Total)>? progress = null)
    {
        var v = reference.VocabSize;
        if (test.VocabSize != v) throw new ArgumentException($"{test.Name} has a vocabulary of {test.VocabSize}, the reference has {v}");
        var result = new DistributionComparison();
        var rows = new ReferenceRows();
        float[] refLogits = [], testLogits = [];
        for (var w = 0; w < windows.Count; w++)
        {
            var win = windows[w];
            if (refLogits.Length < reference.Length(w)) refLogits = new float[reference.Length(w)];
            if (testLogits.Length < win.Tokens.Length * v) testLogits = new float[win.Tokens.Length * v];
            reference.Read(w, refLogits);
            rows.Set(refLogits, win.ScoredCount, v);
            test.Evaluate(win.Tokens, testLogits);
            result.AddWindow(rows, win, testLogits);
            progress?.Report((w + 1, windows.Count));
        }
        return result;
    }
}
