using AwqRuntime.Comparison;
using AwqRuntime.Evaluation;

namespace AwqRuntime.Tests.Compare;

/// <summary>What the report adds on top of the per-row KLD arithmetic (tested in Evaluation/): percentiles, aggregation over windows, the reference's own row, failure isolation, medians.</summary>
public class ComparisonMetricsTests
{
    /// <summary>Deterministic logits for (source seed, window, position, vocabulary index).</summary>
    private sealed class FakeSource(string name, int vocab, double seed, double noise, int failAfter = int.MaxValue) : ILogitsSource
    {
        public int Calls { get; private set; }
        public string Name => name;
        public int VocabSize => vocab;

        public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
        {
            if (++Calls > failAfter) throw new InvalidOperationException($"{name} broke on call {Calls}");
            for (var p = 0; p < tokens.Length; p++)
                for (var v = 0; v < vocab; v++)
                    logits[p * vocab + v] = (float)Value(tokens[p], p, v);
        }

        public double Value(int token, int p, int v) =>
            Math.Sin(0.7 * token + 0.31 * p + 1.3 * v) * 3 + noise * Math.Cos(seed * (v + 1) + 0.11 * p * token);
    }

    private static double[] LogSoftmax64(Func<int, double> logit, int vocab)
    {
        var x = Enumerable.Range(0, vocab).Select(logit).ToArray();
        var max = x.Max();
        var lse = max + Math.Log(x.Sum(v => Math.Exp(v - max)));
        return x.Select(v => v - lse).ToArray();
    }

    private static double Percentile(double[] values, double q)
    {
        var s = values.Order().ToArray();
        var pos = q * (s.Length - 1);
        var lo = (int)pos;
        return lo + 1 < s.Length ? s[lo] + (s[lo + 1] - s[lo]) * (pos - lo) : s[lo];
    }

    [Fact]
    public void Compare_over_several_windows_matches_a_float64_computation_and_runs_the_reference_once_per_window()
    {
        const int vocab = 13;
        var ids = Enumerable.Range(0, 64).Select(i => (i * 7 + 3) % vocab).ToArray();
        var windows = EvalWindows.Build(ids, 16, bosId: 1);
        Assert.Equal(4, windows.Count);
        var reference = new FakeSource("ref", vocab, 0, 0);
        var near = new FakeSource("near", vocab, 1.7, 0.05);
        var far = new FakeSource("far", vocab, 2.3, 0.6);

        var results = Evaluator.Compare(reference, [near, far], windows);
        Assert.Equal(4, reference.Calls);

        foreach (var (source, result) in new[] { (near, results[0]), (far, results[1]) })
        {
            var klds = new List<double>();
            double nll = 0, dp2 = 0;
            var same = 0;
            foreach (var w in windows)
                for (var p = w.FirstScored; p < w.Tokens.Length - 1; p++)
                {
                    var lr = LogSoftmax64(v => reference.Value(w.Tokens[p], p, v), vocab);
                    var lt = LogSoftmax64(v => source.Value(w.Tokens[p], p, v), vocab);
                    klds.Add(lr.Select((l, v) => Math.Exp(l) * (l - lt[v])).Sum());
                    var target = w.Tokens[p + 1];
                    nll -= lt[target];
                    dp2 += Math.Pow(Math.Exp(lt[target]) - Math.Exp(lr[target]), 2);
                    if (Array.IndexOf(lr, lr.Max()) == Array.IndexOf(lt, lt.Max())) same++;
                }
            var m = result.Summary();
            Assert.Equal(klds.Count, m.Tokens);
            Assert.Equal(4 * 7, m.Tokens); // 4 windows × (16/2 − 1) scored positions
            Assert.Equal(klds.Average(), m.MeanKld, 1e-6);
            Assert.Equal(Percentile(klds.ToArray(), 0.99), m.KldP99, 1e-6);
            Assert.Equal(Math.Exp(nll / klds.Count), m.Perplexity, 1e-5);
            Assert.Equal(Math.Sqrt(dp2 / klds.Count), m.RmsDeltaP, 1e-6);
            Assert.Equal((double)same / klds.Count, m.Top1Agreement, 12);
        }
        Assert.True(results[0].MeanKld < results[1].MeanKld);
    }

    [Fact]
    public void P99_interpolates_between_closest_ranks()
    {
        // KL([a, 1−a] ‖ [½, ½]) = a ln 2a + (1−a) ln 2(1−a): 201 rows with known divergences.
        var c = new DistributionComparison();
        var expected = new List<double>();
        for (var i = 0; i <= 200; i++)
        {
            var a = 0.5 + 0.49 * i / 200;
            expected.Add(a * Math.Log(2 * a) + (1 - a) * Math.Log(2 * (1 - a)));
            c.Add([(float)Math.Log(a), (float)Math.Log(1 - a)], [0f, 0f], target: 0);
        }
        Assert.Equal(Percentile(expected.ToArray(), 0.99), c.KldPercentile(0.99), 1e-6);
        Assert.Equal(expected.Max(), c.KldPercentile(1.0), 1e-6);
        Assert.Equal(expected.Min(), c.KldPercentile(0.0), 1e-6);
        Assert.True(c.KldPercentile(0.99) < c.MaxKld);
    }

    [Fact]
    public void The_reference_row_replays_the_reference_exactly()
    {
        var ids = Enumerable.Range(0, 48).Select(i => (i * 5 + 2) % 11).ToArray();
        var windows = EvalWindows.Build(ids, 16, bosId: 1);
        var inner = new FakeSource("ref", 11, 0, 0);
        var recording = new RecordingLogitsSource(inner);
        var result = Evaluator.Compare(recording, [recording.Replay("FP32 (ours)")], windows)[0];
        Assert.Equal(windows.Count, inner.Calls); // the replay does not run the model
        Assert.Equal(0, result.MeanKld);
        Assert.Equal(1, result.Top1Agreement);
        Assert.Equal(result.Reference.Perplexity, result.Test.Perplexity);

        var replay = recording.Replay("x");
        var buffer = new float[16 * 11];
        Assert.Throws<InvalidOperationException>(() => replay.Evaluate(windows[0].Tokens, buffer)); // last window was windows[^1]
    }

    [Fact]
    public void A_source_that_fails_mid_evaluation_keeps_its_error_and_the_others_are_scored()
    {
        var ids = Enumerable.Range(0, 64).Select(i => (i * 3 + 1) % 9).ToArray();
        var windows = EvalWindows.Build(ids, 16, bosId: 1);
        var good = new FakeSource("good", 9, 1.1, 0.1);
        var broken = new GuardedLogitsSource(new FakeSource("broken", 9, 1.1, 0.1, failAfter: 2));
        var results = Evaluator.Compare(new FakeSource("ref", 9, 0, 0), [broken, good], windows);
        Assert.NotNull(broken.Failure);
        Assert.Contains("broke on call 3", broken.Failure!.Message);
        Assert.Equal(4 * 7, results[1].Count);
        Assert.True(results[1].MeanKld > 0 && double.IsFinite(results[1].MeanKld));
    }

    [Theory]
    [InlineData(new double[] { 3 }, 3)]
    [InlineData(new double[] { 5, 1, 3 }, 3)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 2.5)]
    public void Median_of_speed_runs(double[] values, double median) => Assert.Equal(median, Statistics.Median(values));

    [Fact]
    public void Median_of_nothing_is_nan() => Assert.True(double.IsNaN(Statistics.Median([])));
}
