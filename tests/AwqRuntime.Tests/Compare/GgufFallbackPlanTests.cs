using AwqRuntime.Comparison;
using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.Compare;

public class GgufFallbackPlanTests
{
    private static GgufTensorInfo T(string name, string type, params long[] dims)
    {
        Assert.True(GgmlTypeNames.TryParse(type, out var id));
        return new GgufTensorInfo(name, id, dims, 0);
    }

    /// <summary>stories260K's shapes (GGUF order: row length first): dim 64, hidden 172, kv 32.</summary>
    private static List<GgufTensorInfo> Stories260K(Func<string, string> typeOf)
    {
        var list = new List<GgufTensorInfo> { T("token_embd.weight", typeOf("token_embd"), 64, 512), T("output_norm.weight", "F32", 64) };
        for (var l = 0; l < 2; l++)
        {
            list.Add(T($"blk.{l}.attn_norm.weight", "F32", 64));
            list.Add(T($"blk.{l}.attn_q.weight", typeOf("attn_q"), 64, 64));
            list.Add(T($"blk.{l}.attn_k.weight", typeOf("attn_k"), 64, 32));
            list.Add(T($"blk.{l}.ffn_gate.weight", typeOf("ffn_gate"), 64, 172));
            list.Add(T($"blk.{l}.ffn_down.weight", typeOf("ffn_down"), 172, 64));
        }
        list.Add(T("output.weight", typeOf("output"), 64, 512));
        return list;
    }

    [Theory]
    [InlineData("Q4_0", 32, false)]
    [InlineData("q8_0", 32, false)]
    [InlineData("IQ4_NL", 32, false)]
    [InlineData("Q4_K_M", 256, true)]
    [InlineData("Q5_K_M", 256, true)]
    [InlineData("IQ2_XXS", 256, true)]
    [InlineData("F16", 1, true)]
    public void Block_sizes_and_whether_llama_cpp_falls_back(string type, int block, bool fallsBack)
    {
        Assert.Equal(block, GgufFallbackPlan.BlockSize(type));
        Assert.Equal(fallsBack, GgufFallbackPlan.LlamaCppFallsBack(type));
    }

    [Fact]
    public void Plain_formats_override_exactly_the_tensors_whose_rows_32_does_not_divide()
    {
        var source = Stories260K(_ => "F32");
        var overrides = GgufFallbackPlan.Overrides(source, "Q4_0");
        Assert.Equal(["^blk\\.0\\.ffn_down\\.weight$", "^blk\\.1\\.ffn_down\\.weight$"], overrides.Keys.Order().ToArray());
        Assert.All(overrides.Values, v => Assert.Equal("F16", v));
        // K-quants fall back by themselves: no override, llama.cpp's own choice is reported instead.
        Assert.Empty(GgufFallbackPlan.Overrides(source, "Q4_K_M"));
        Assert.Empty(GgufFallbackPlan.Overrides(source, "F16"));
    }

    [Fact]
    public void Exact_pattern_escapes_regex_metacharacters()
    {
        var pattern = GgufFallbackPlan.ExactPattern("blk.10.ffn_down.weight");
        Assert.Equal("^blk\\.10\\.ffn_down\\.weight$", pattern);
        // std::regex ECMAScript and .NET agree on this subset.
        Assert.Matches(pattern, "blk.10.ffn_down.weight");
        Assert.DoesNotMatch(pattern, "blk.100.ffn_down.weight");
        Assert.DoesNotMatch(pattern, "blkX10.ffn_down.weight");
    }

    [Fact]
    public void Describe_names_our_overrides_for_plain_formats()
    {
        var written = Stories260K(kind => kind == "ffn_down" ? "F16" : "Q4_0");
        var notes = GgufFallbackPlan.Describe(written, "Q4_0", GgufFallbackPlan.Overrides(Stories260K(_ => "F32"), "Q4_0"));
        var note = Assert.Single(notes);
        Assert.Contains("kept at F16 by a tensor-type override", note);
        Assert.Contains("rows of 172", note);
        Assert.Contains("ffn_down ×2", note);
    }

    [Fact]
    public void Describe_reports_llama_cpp_fallbacks_of_k_quants_by_type()
    {
        // What llama.cpp wrote for "Q4_K_M" on stories260K (measured, README of AwqRuntime.LlamaSharp).
        var written = Stories260K(kind => kind switch { "ffn_down" => "F16", "output" => "Q8_0", _ => "Q5_0" });
        var notes = GgufFallbackPlan.Describe(written, "Q4_K_M", new Dictionary<string, string>());
        Assert.Equal(2, notes.Count);
        Assert.StartsWith("llama.cpp fell back (rows of 64/172 are not a multiple of 256)", notes[0]);
        Assert.Contains("Q5_0 for token_embd ×1, attn_q ×2, attn_k ×2, ffn_gate ×2", notes[0]);
        Assert.Contains("F16 for ffn_down ×2", notes[0]);
        Assert.Contains("Q8_0 for output ×1", notes[0]);
        Assert.Contains("no tensor is stored in a 256-block (K/IQ) type", notes[1]);
    }

    [Fact]
    public void Describe_is_silent_when_every_row_splits()
    {
        var written = new List<GgufTensorInfo> { T("blk.0.ffn_down.weight", "Q4_K", 256, 64), T("blk.0.attn_norm.weight", "F32", 100) };
        Assert.Empty(GgufFallbackPlan.Describe(written, "Q4_K_M", new Dictionary<string, string>()));
    }

    [Theory]
    [InlineData("blk.3.ffn_down.weight", "ffn_down")]
    [InlineData("output.weight", "output")]
    [InlineData("token_embd.weight", "token_embd")]
    public void Kind_drops_the_block_index(string name, string kind) => Assert.Equal(kind, GgufFallbackPlan.Kind(name));
}
