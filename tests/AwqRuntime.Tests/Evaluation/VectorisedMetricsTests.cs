using AwqRuntime.Evaluation;

namespace AwqRuntime.Tests.Evaluation;

/// <summary>
/// The vectorised metrics path (reference rows computed once per window, TensorPrimitives exp/sum/dot)
/// against a float64 computation written element by element from the definitions, at a vocabulary
/// that is not a multiple of any vector width.
/// </summary>
public class VectorisedMetricsTests
{
    private const int Vocab = 515;

    /// <summary>Logits from a fixed pseudo-random stream per (source, window content, position); masked ids are -inf in every source.</summary>
    private sealed class RandomSource(string name, int seed, double spread, double noise, bool masked) : ILogitsSource
    {
        public string Name => name;
        public int VocabSize => Vocab;

        public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
        {
            for (var p = 0; p < tokens.Length; p++)
            {
                var shared = new Random(tokens[p] * 7919 + p);
                var own = new Random(seed * 104729 + tokens[p] * 31 + p);
                for (var v = 0; v < Vocab; v++)
                {
                    var x = (shared.NextDouble() * 2 - 1) * spread + noise * (own.NextDouble() * 2 - 1);
                    logits[p * Vocab + v] = masked && v % 97 == 5 ? float.NegativeInfinity : (float)x;
                }
            }
        }
    }

    private static double[] LogProbs(ReadOnlySpan<float> row)
    {
        var max = double.NegativeInfinity;
        foreach (var l in row) max = Math.Max(max, l);
        double sum = 0;
        foreach (var l in row) sum += Math.Exp(l - max);
        var lse = max + Math.Log(sum);
        var lp = new double[row.Length];
        for (var i = 0; i < row.Length; i++) lp[i] = row[i] - lse;
        return lp;
    }

    private static int FirstMax(double[] x)
    {
        var arg = 0;
        for (var i = 1; i < x.Length; i++) if (x[i] > x[arg]) arg = i;
        return arg;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Compare_equals_a_float64_definition(bool masked)
    {
        var ids = Enumerable.Range(0, 3 * 40 + 9).Select(i => (i * 37 + 11) % Vocab).ToArray();
        var windows = EvalWindows.Build(ids, 40, bosId: 1);
        var reference = new RandomSource("ref", 1, 6, 0, masked);
        var tests = new[] { new RandomSource("near", 2, 6, 0.3, masked), new RandomSource("far", 3, 6, 3, masked) };
        var results = Evaluator.Compare(reference, tests, windows);
        var perplexity = Evaluator.Perplexity(tests[1], windows);

        var refRow = new float[40 * Vocab];
        var testRow = new float[40 * Vocab];
        for (var t = 0; t < tests.Length; t++)
        {
            var klds = new List<double>();
            double nllRef = 0, nllTest = 0, dp2 = 0;
            var same = 0;
            foreach (var w in windows)
            {
                reference.Evaluate(w.Tokens, refRow);
                tests[t].Evaluate(w.Tokens, testRow);
                for (var p = w.FirstScored; p < w.Tokens.Length - 1; p++)
                {
                    var lr = LogProbs(refRow.AsSpan(p * Vocab, Vocab));
                    var lt = LogProbs(testRow.AsSpan(p * Vocab, Vocab));
                    double kld = 0;
                    for (var v = 0; v < Vocab; v++)
                        if (Math.Exp(lr[v]) > 0) kld += Math.Exp(lr[v]) * (lr[v] - lt[v]);
                    klds.Add(kld);
                    var target = w.Tokens[p + 1];
                    nllRef -= lr[target];
                    nllTest -= lt[target];
                    dp2 += Math.Pow(Math.Exp(lt[target]) - Math.Exp(lr[target]), 2);
                    if (FirstMax(lr) == FirstMax(lt)) same++;
                }
            }
            var m = results[t].Summary();
            Assert.Equal(3 * 19, m.Tokens);
            Assert.Equal(klds.Average(), m.MeanKld, 1e-12);
            Assert.Equal(klds.Max(), m.MaxKld, 1e-12);
            var ppl = Math.Exp(nllTest / klds.Count);
            var refPpl = Math.Exp(nllRef / klds.Count);
            Assert.Equal(ppl, m.Perplexity, ppl * 1e-12);
            Assert.Equal(refPpl, m.ReferencePerplexity, refPpl * 1e-12);
            Assert.Equal(Math.Sqrt(dp2 / klds.Count), m.RmsDeltaP, 1e-12);
            Assert.Equal((double)same / klds.Count, m.Top1Agreement, 15);
            if (t == 1) Assert.Equal(nllTest / klds.Count, perplexity.MeanNll, 1e-12);
        }
        Assert.True(results[0].MeanKld > 0 && results[0].MeanKld < results[1].MeanKld);
        Assert.True(results[0].Top1Agreement > results[1].Top1Agreement);
    }

    [Fact]
    public void Log_softmax_of_a_row_with_infinities_follows_the_definition()
    {
        float[] row = [1f, float.NegativeInfinity, 2f];
        var lp = new double[3];
        LogSoftmax.Compute(row, lp);
        var lse = 2 + Math.Log(Math.Exp(-1) + 1);
        Assert.Equal(1 - lse, lp[0], 1e-15);
        Assert.Equal(double.NegativeInfinity, lp[1]);
        Assert.Equal(2 - lse, lp[2], 1e-15);
        Assert.Equal(double.PositiveInfinity, LogSoftmax.LogSumExp([0f, float.PositiveInfinity]));
        Assert.True(double.IsNaN(LogSoftmax.LogSumExp([0f, float.NaN])));
    }
}
