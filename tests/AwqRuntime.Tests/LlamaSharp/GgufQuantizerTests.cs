using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

[Collection(LlamaCppCollection.Name)]
public sealed class GgufQuantizerTests(LlamaCppFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("awq-quant-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string> FfnDownF16 = new() { ["ffn_down"] = "F16" };

    [Fact]
    public void Q8_0_with_ffn_down_kept_in_f16_loads_and_stays_close_to_f32()
    {
        var output = Path.Combine(_dir, "q8_0.gguf");
        var result = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q8_0", threads: 2, tensorTypeOverrides: FfnDownF16);
        Assert.True(result.Success, result.Error);
        Assert.Null(result.Error);
        Assert.Equal(new FileInfo(output).Length, result.OutputBytes);
        Assert.True(result.OutputBytes < new FileInfo(SharedData.Stories260KGguf).Length / 2);

        Assert.Equal(48, result.Tensors.Count);
        foreach (var t in result.Tensors)
        {
            var expected = t.Name.Contains("ffn_down") ? "F16" : t.Dimensions.Count == 1 ? "F32" : "Q8_0";
            Assert.True(expected == t.TypeName, $"{t.Name}: {t.TypeName}, expected {expected}");
        }
        Assert.Equal(5, result.TensorTypeCounts["F16"]);
        Assert.Equal(11, result.TensorTypeCounts["F32"]);
        Assert.Equal(32, result.TensorTypeCounts["Q8_0"]);
        static string Describe(IEnumerable<GgufTensorInfo> ts) =>
            string.Join(";", ts.Select(t => $"{t.Name}:{t.TypeId}:{string.Join('x', t.Dimensions)}@{t.DataOffset}"));
        Assert.Equal(Describe(result.Tensors), Describe(GgufTensorTable.Read(output)));
        Assert.Contains(result.Warnings, w => w.Contains("override"));

        using var quantized = LlamaCppModel.Load(output, LlamaCppFixture.F32Options);
        int[] tokens = [1, .. Stories260KReference.Load().GreedyFromBos[..127]];
        var reference = fixture.Model.EvaluateLogits(tokens);
        var logits = quantized.EvaluateLogits(tokens);
        // Weights and (in llama.cpp's CPU matmul) activations are 8-bit: close in distribution, not equal.
        double maxDiff = 0, kld = 0;
        var sameTop1 = 0;
        for (var p = 0; p < tokens.Length; p++)
        {
            var r = reference.AsSpan(p * 512, 512);
            var q = logits.AsSpan(p * 512, 512);
            for (var v = 0; v < 512; v++) maxDiff = Math.Max(maxDiff, Math.Abs(r[v] - q[v]));
            kld += KlDivergence(r, q);
            if (LlamaCppModel.ArgMax(r) == LlamaCppModel.ArgMax(q)) sameTop1++;
        }
        kld /= tokens.Length;
        Assert.True(maxDiff > 0, "quantized logits identical to F32: the quantization did not happen");
        Assert.True(maxDiff < 1.0, $"max |diff| {maxDiff:F4}");
        Assert.True(kld < 0.005, $"mean KL(F32 || Q8_0) {kld:E3}");
        Assert.True(sameTop1 >= 0.95 * tokens.Length, $"top-1 agreement {sameTop1}/{tokens.Length}");
    }

    /// <summary>KL(softmax(p) || softmax(q)) in double.</summary>
    internal static double KlDivergence(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        // log softmax(x)[v] = x[v] - logsumexp(x); NLL of token 0 gives logsumexp(x) - x[0].
        var lseP = LlamaCppPerplexity.NegativeLogLikelihood(p, 0) + p[0];
        var lseQ = LlamaCppPerplexity.NegativeLogLikelihood(q, 0) + q[0];
        double kl = 0;
        for (var v = 0; v < p.Length; v++)
        {
            var lp = p[v] - lseP;
            kl += Math.Exp(lp) * (lp - (q[v] - lseQ));
        }
        return kl;
    }

    [Fact]
    public void Q4_0_without_override_fails_cleanly_and_leaves_no_file()
    {
        var output = Path.Combine(_dir, "q4_0.gguf");
        var result = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q4_0", threads: 2);
        Assert.False(result.Success);
        Assert.NotNull(result.Error);
        Assert.Contains("no tensor type fallback", result.Error);
        Assert.Contains("ffn_down", result.Error); // the cause: 172-wide rows, block size 32
        Assert.Empty(result.Tensors);
        Assert.Equal(0, result.OutputBytes);
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void Q4_0_with_override_succeeds()
    {
        var output = Path.Combine(_dir, "q4_0.gguf");
        var result = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "q4_0", threads: 2, tensorTypeOverrides: FfnDownF16);
        Assert.True(result.Success, result.Error);
        Assert.All(result.Tensors.Where(t => t.Name.Contains("ffn_down")), t => Assert.Equal("F16", t.TypeName));
        Assert.Contains(result.Tensors, t => t.TypeName == "Q4_0");
    }

    [Fact]
    public void Q4_K_M_succeeds_through_llama_cpp_fallbacks_and_reports_them()
    {
        var output = Path.Combine(_dir, "q4_k_m.gguf");
        var result = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q4_K_M", threads: 2);
        Assert.True(result.Success, result.Error);
        // 64- and 172-wide rows do not divide the 256-element K-quant super-block: llama.cpp falls back
        // tensor by tensor (q4_K→Q5_0, q6_K→Q8_0, ffn_down→F16), so no K-quant tensor is left.
        Assert.DoesNotContain(result.Tensors, t => t.TypeName.EndsWith("_K"));
        Assert.Contains(result.Tensors, t => t.TypeName == "Q5_0");
        Assert.All(result.Tensors.Where(t => t.Name.Contains("ffn_down")), t => Assert.Equal("F16", t.TypeName));
        Assert.Contains(result.Warnings, w => w.Contains("falling back"));
        using var quantized = LlamaCppModel.Load(output, LlamaCppFixture.F32Options with { ContextSize = 64 });
        Assert.Equal(512, quantized.VocabSize);
    }

    [Fact]
    public void Override_to_iq4_nl_is_written_with_that_type()
    {
        var output = Path.Combine(_dir, "mixed.gguf");
        var overrides = new Dictionary<string, string> { ["ffn_down"] = "F16", ["attn_q"] = "IQ4_NL" };
        var result = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q8_0", threads: 2, tensorTypeOverrides: overrides);
        Assert.True(result.Success, result.Error);
        Assert.All(result.Tensors.Where(t => t.Name.Contains("attn_q")), t => Assert.Equal(20, t.TypeId));
        Assert.All(result.Tensors.Where(t => t.Name.Contains("attn_q")), t => Assert.Equal("IQ4_NL", t.TypeName));
    }

    [Fact]
    public void Existing_destination_is_replaced_only_on_success()
    {
        var output = Path.Combine(_dir, "keep.gguf");
        File.WriteAllText(output, "previous");
        var failed = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q4_0", threads: 2);
        Assert.False(failed.Success);
        Assert.Equal("previous", File.ReadAllText(output));
        var ok = GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "F16", threads: 2);
        Assert.True(ok.Success, ok.Error);
        Assert.Equal(37, ok.TensorTypeCounts["F16"]);
        Assert.Single(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void Bad_arguments_throw_and_a_missing_source_is_a_failed_result()
    {
        var output = Path.Combine(_dir, "x.gguf");
        Assert.Throws<ArgumentException>(() => GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q4_K"));
        Assert.Throws<ArgumentException>(() => GgufQuantizer.Quantize(SharedData.Stories260KGguf, output, "Q8_0",
            tensorTypeOverrides: new Dictionary<string, string> { ["ffn_down"] = "F17" }));
        var missing = GgufQuantizer.Quantize(Path.Combine(_dir, "nope.gguf"), output, "Q8_0");
        Assert.False(missing.Success);
        Assert.Contains("does not exist", missing.Error);
        Assert.False(File.Exists(output));
    }
}
