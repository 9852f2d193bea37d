using AwqRuntime.Model;

namespace AwqRuntime.Tests.Formats;

public class RopePermutationTests
{
    /// <summary>numpy's reshape(n_head, 2, d/2, in).swapaxes(1, 2).reshape(rows, in), written out as 4-D indexing.</summary>
    private static float[] NumpyPermute(float[] w, int heads, int d, int cols)
    {
        var result = new float[w.Length];
        for (var h = 0; h < heads; h++)
            for (var a = 0; a < 2; a++)
                for (var b = 0; b < d / 2; b++)
                    for (var c = 0; c < cols; c++)
                    {
                        var src = ((h * 2 + a) * (d / 2) + b) * cols + c; // old[h, a, b, c]
                        var dst = ((h * (d / 2) + b) * 2 + a) * cols + c; // new[h, b, a, c] after swapping axes 1 and 2
                        result[dst] = w[src];
                    }
        return result;
    }

    [Theory]
    [InlineData(8, 8, 3)]
    [InlineData(4, 32, 5)]
    [InlineData(1, 2, 1)]
    public void Matches_llama_cpp_permute_and_inverts(int heads, int d, int cols)
    {
        var w = Enumerable.Range(0, heads * d * cols).Select(i => (float)i).ToArray();
        var interleaved = RopePermutation.HfToInterleaved(w, heads, d, cols);
        Assert.Equal(NumpyPermute(w, heads, d, cols), interleaved);
        Assert.Equal(w, RopePermutation.InterleavedToHf(interleaved, heads, d, cols));
        var order = RopePermutation.InterleavedChannelOrder(heads, d);
        for (var r = 0; r < heads * d; r++) Assert.Equal(w[order[r] * cols], interleaved[r * cols]);
    }

    /// <summary>
    /// The reason the permutation exists: HF's rotate_half RoPE on HF-layout weights and the
    /// interleaved-pair RoPE (llama2.c run.c) on permuted weights give identical attention scores.
    /// </summary>
    [Fact]
    public void Rotate_half_rope_on_hf_rows_equals_interleaved_rope_on_permuted_rows()
    {
        const int heads = 3, d = 8, cols = 6;
        var rng = new Random(11);
        float[] Rand(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var wqHf = Rand(heads * d * cols);
        var wkHf = Rand(heads * d * cols);
        var wq = RopePermutation.HfToInterleaved(wqHf, heads, d, cols);
        var wk = RopePermutation.HfToInterleaved(wkHf, heads, d, cols);
        var x1 = Rand(cols);
        var x2 = Rand(cols);

        double[] Project(float[] w, float[] x) => Enumerable.Range(0, heads * d).Select(r => Enumerable.Range(0, cols).Sum(c => (double)w[r * cols + c] * x[c])).ToArray();
        double[] RopeHalf(double[] v, int pos)
        {
            var o = (double[])v.Clone();
            for (var h = 0; h < heads; h++)
                for (var i = 0; i < d / 2; i++)
                {
                    var th = pos * Math.Pow(10000, -2.0 * i / d);
                    double a = v[h * d + i], b = v[h * d + i + d / 2];
                    o[h * d + i] = a * Math.Cos(th) - b * Math.Sin(th);
                    o[h * d + i + d / 2] = b * Math.Cos(th) + a * Math.Sin(th);
                }
            return o;
        }
        double[] RopePairs(double[] v, int pos)
        {
            var o = (double[])v.Clone();
            for (var h = 0; h < heads; h++)
                for (var i = 0; i < d; i += 2)
                {
                    var th = pos * Math.Pow(10000, -(double)i / d);
                    double a = v[h * d + i], b = v[h * d + i + 1];
                    o[h * d + i] = a * Math.Cos(th) - b * Math.Sin(th);
                    o[h * d + i + 1] = a * Math.Sin(th) + b * Math.Cos(th);
                }
            return o;
        }
        double Score(double[] q, double[] k, int h) => Enumerable.Range(0, d).Sum(j => q[h * d + j] * k[h * d + j]);

        var qHf = RopeHalf(Project(wqHf, x1), 5);
        var kHf = RopeHalf(Project(wkHf, x2), 2);
        var q = RopePairs(Project(wq, x1), 5);
        var k = RopePairs(Project(wk, x2), 2);
        for (var h = 0; h < heads; h++) Assert.Equal(Score(qHf, kHf, h), Score(q, k, h), 1e-9);
        // Without the permutation the scores differ: the test can fail.
        var qWrong = RopePairs(Project(wqHf, x1), 5);
        var kWrong = RopePairs(Project(wkHf, x2), 2);
        Assert.Contains(Enumerable.Range(0, heads), h => Math.Abs(Score(qWrong, kWrong, h) - Score(qHf, kHf, h)) > 1e-6);
    }
}
