using AwqRuntime.Native;
using NativeKernels = AwqRuntime.Native.Kernels;

namespace AwqRuntime.Tests.Layers;

/// <summary>awq_attention against a naive float64 causal grouped-query attention.</summary>
public unsafe class LayerAttentionTests
{
    /// <summary>Written from the definition: every query row, head and key, no tiling, all in double.</summary>
    private static double[] NaiveAttention(float[] q, float[] k, float[] v, int m, int nPast, int nHeads, int nKvHeads, int headDim)
    {
        var output = new double[m * nHeads * headDim];
        int group = nHeads / nKvHeads;
        for (int r = 0; r < m; r++)
            for (int h = 0; h < nHeads; h++)
            {
                int kvh = h / group, keys = nPast + r + 1;
                var scores = new double[keys];
                for (int t = 0; t < keys; t++)
                {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++)
                        dot += (double)q[(r * nHeads + h) * headDim + d] * k[(t * nKvHeads + kvh) * headDim + d];
                    scores[t] = dot / Math.Sqrt(headDim);
                }
                double max = scores.Max(), sum = scores.Sum(s => Math.Exp(s - max));
                for (int d = 0; d < headDim; d++)
                {
                    double acc = 0;
                    for (int t = 0; t < keys; t++)
                        acc += Math.Exp(scores[t] - max) / sum * v[(t * nKvHeads + kvh) * headDim + d];
                    output[(r * nHeads + h) * headDim + d] = acc;
                }
            }
        return output;
    }

    private static float[] Uniform(Random rng, int count, double scale) =>
        Enumerable.Range(0, count).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    [Theory]
    // M, n_past, n_heads, n_kv_heads, head_dim
    [InlineData(1, 0, 8, 4, 8, 31)]      // first token, stories260K (GQA 2:1, head_dim 8)
    [InlineData(12, 0, 8, 4, 8, 32)]     // full causal prefill
    [InlineData(1, 17, 8, 4, 8, 33)]     // decode
    [InlineData(16, 0, 6, 6, 48, 34)]    // stories15M prefill (MHA)
    [InlineData(1, 40, 6, 6, 48, 35)]    // stories15M decode
    [InlineData(5, 9, 32, 8, 64, 36)]    // chunked prefill after a cached prefix, GQA 4:1
    [InlineData(3, 20, 8, 1, 128, 37)]   // MQA, head_dim 128
    [InlineData(4, 3, 4, 2, 13, 38)]     // head_dim no SIMD width divides
    public void Matches_naive_float64_attention(int m, int nPast, int nHeads, int nKvHeads, int headDim, int seed)
    {
        int nCtx = nPast + m + 5; // spare rows past the valid ones are NaN: reading them would show
        var rng = new Random(seed);
        var q = Uniform(rng, m * nHeads * headDim, 2);
        var k = Uniform(rng, nCtx * nKvHeads * headDim, 2);
        var v = Uniform(rng, nCtx * nKvHeads * headDim, 1);
        for (int i = (nPast + m) * nKvHeads * headDim; i < k.Length; i++) k[i] = v[i] = float.NaN;
        var output = new float[m * nHeads * headDim];

        NativeKernels.Attention(q, k, v, m, nPast, nCtx, nHeads, nKvHeads, headDim, output);

        var expected = NaiveAttention(q, k, v, m, nPast, nHeads, nKvHeads, headDim);
        for (int i = 0; i < output.Length; i++)
            Assert.True(Math.Abs(output[i] - expected[i]) <= 3e-6,
                $"seed {seed}, M={m} n_past={nPast} heads={nHeads}/{nKvHeads} head_dim={headDim}: out[{i}] = {output[i]:R}, expected {expected[i]:R}");
    }

    [Fact]
    public void Prefill_equals_token_by_token_decode_on_the_same_cache()
    {
        const int m = 9, nHeads = 4, nKvHeads = 2, headDim = 16, nCtx = 16;
        var rng = new Random(41);
        var q = Uniform(rng, m * nHeads * headDim, 2);
        var k = Uniform(rng, nCtx * nKvHeads * headDim, 2);
        var v = Uniform(rng, nCtx * nKvHeads * headDim, 1);
        var prefill = new float[m * nHeads * headDim];
        NativeKernels.Attention(q, k, v, m, 0, nCtx, nHeads, nKvHeads, headDim, prefill);

        int row = nHeads * headDim;
        for (int t = 0; t < m; t++)
        {
            var one = new float[row];
            NativeKernels.Attention(q.AsSpan(t * row, row), k, v, 1, t, nCtx, nHeads, nKvHeads, headDim, one);
            Assert.Equal(prefill.AsSpan(t * row, row).ToArray(), one); // same operations, same bits
        }
    }

    [Fact]
    public void A_single_key_returns_its_value()
    {
        // position 0 sees only cache row 0: softmax of one score is 1, so out = v[0, kv head]
        var q = new float[] { 1, 2, 3, 4, -1, -2, -3, -4 };
        var k = new float[] { 5, 6, 7, 8 };
        var v = new float[] { 0.25f, -0.5f, 0.75f, 100f };
        var output = new float[8];
        NativeKernels.Attention(q, k, v, 1, 0, 1, 2, 1, 4, output);
        Assert.Equal(v.Concat(v).ToArray(), output);
    }

    [Fact]
    public void Bad_arguments_return_named_statuses()
    {
        float* p = stackalloc float[64];
        const string fn = "awq_attention";
        F32GemmTests.Expect(NativeMethods.awq_attention(null, p, p, 1, 0, 4, 2, 1, 4, p), NativeStatus.NullPointer, fn, "'q'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, null, p, 1, 0, 4, 2, 1, 4, p), NativeStatus.NullPointer, fn, "'k_cache'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, null, 1, 0, 4, 2, 1, 4, p), NativeStatus.NullPointer, fn, "'v_cache'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 4, 2, 1, 4, null), NativeStatus.NullPointer, fn, "'out'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 0, 0, 4, 2, 1, 4, p), NativeStatus.InvalidSize, fn, "'M'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, -1, 4, 2, 1, 4, p), NativeStatus.InvalidSize, fn, "'n_past'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 0, 2, 1, 4, p), NativeStatus.InvalidSize, fn, "'n_ctx'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 4, 0, 1, 4, p), NativeStatus.InvalidSize, fn, "'n_heads'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 4, 2, 0, 4, p), NativeStatus.InvalidSize, fn, "'n_kv_heads'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 4, 2, 1, -8, p), NativeStatus.InvalidSize, fn, "'head_dim'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 4, 6, 4, 4, p), NativeStatus.SizeMismatch, fn, "'n_kv_heads'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 1, 0, 4, 2, 4, 4, p), NativeStatus.SizeMismatch, fn, "'n_heads'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 2, 3, 4, 2, 1, 4, p), NativeStatus.InvalidSize, fn, "'n_ctx'");
        F32GemmTests.Expect(NativeMethods.awq_attention(p, p, p, 2, long.MaxValue, 4, 2, 1, 4, p), NativeStatus.InvalidSize, fn, "'n_past'");
        Assert.Equal(0, NativeMethods.awq_attention(p, p, p, 2, 2, 4, 2, 1, 4, p)); // n_past + M == n_ctx is fine
    }

    [Fact]
    public void Wrapper_throws_naming_function_and_argument()
    {
        var buf = new float[256];
        const string fn = "awq_attention";
        F32GemmTests.AssertThrows(() => NativeKernels.Attention(buf, buf, buf, 1, 0, 4, 6, 4, 4, buf), NativeStatus.SizeMismatch, fn, "'n_kv_heads'");
        F32GemmTests.AssertThrows(() => NativeKernels.Attention(buf, buf, buf, 3, 2, 4, 2, 1, 4, buf), NativeStatus.InvalidSize, fn, "'n_ctx'");
        F32GemmTests.AssertThrows(() => NativeKernels.Attention(buf, buf, buf, 1, -2, 4, 2, 1, 4, buf), NativeStatus.InvalidSize, fn, "'n_past'");
        F32GemmTests.AssertThrows(() => NativeKernels.Attention(buf, buf, buf, 1, 0, 4, 2, 1, 0, buf), NativeStatus.InvalidSize, fn, "'head_dim'");
        var ex = Assert.Throws<ArgumentException>(() => NativeKernels.Attention(buf, buf.AsSpan(0, 10), buf, 1, 0, 4, 2, 1, 4, buf));
        Assert.Contains("'k_cache'", ex.Message);
    }
}
