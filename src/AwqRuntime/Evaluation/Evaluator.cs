namespace AwqRuntime.Evaluation;

/// <summary>Perplexity and distribution comparisons over llama.cpp-style windows (see <see cref="EvalWindows"/>).</summary>
public static class Evaluator
{
    public static PerplexityAccumulator Perplexity(ILogitsSource model, IReadOnlyList<EvalWindow> windows, IProgress<(int Done, int Total)>? progress = null)
    {
        var acc = new PerplexityAccumulator();
        var v = model.VocabSize;
        float[] logits = [];
        for (var w = 0; w < windows.Count; w++)
        {
            var win = windows[w];
            if (logits.Length < win.Tokens.Length * v) logits = new float[win.Tokens.Length * v];
            model.Evaluate(win.Tokens, logits);
            for (var p = win.FirstScored; p < win.Tokens.Length - 1; p++) acc.Add(logits.AsSpan(p * v, v), win.Tokens[p + 1]);
            progress?.Report((w + 1, windows.Count));
        }
        return acc;
    }

    /// <summary>
    /// Every test model against the reference on the same windows. The reference runs once per window,
    /// its scored rows' distributions are computed once (<see cref="ReferenceRows"/>) and compared with
    /// each test model's before the next window.
    /// </summary>
    public static IReadOnlyList<DistributionComparison> Compare(ILogitsSource reference, IReadOnlyList<ILogitsSource> tests,
        IReadOnlyList<EvalWindow> windows, IProgress<(int Done, int Total)>? progress = null)
    {
        var v = reference.VocabSize;
        foreach (var t in tests)
            if (t.VocabSize != v) throw new ArgumentException($"{t.Name} has a vocabulary of {t.VocabSize}, the reference {reference.Name} has {v}");
        var results = tests.Select(_ => new DistributionComparison()).ToArray();
        float[] refLogits = [], testLogits = [];
        var refRows = new ReferenceRows();
        for (var w = 0; w < windows.Count; w++)
        {
            var win = windows[w];
            var n = win.Tokens.Length * v;
            if (refLogits.Length < n) { refLogits = new float[n]; testLogits = new float[n]; }
            reference.Evaluate(win.Tokens, refLogits);
            refRows.Set(refLogits.AsSpan(win.FirstScored * v), win.ScoredCount, v);
            for (var t = 0; t < tests.Count; t++)
            {
                tests[t].Evaluate(win.Tokens, testLogits);
                results[t].AddWindow(refRows, win, testLogits);
            }
            progress?.Report((w + 1, windows.Count));
        }
        return results;
    }
}
