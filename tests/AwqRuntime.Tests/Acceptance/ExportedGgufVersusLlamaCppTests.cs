using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>
/// stories260K.bin exported by the CLI (`awq export-gguf … --out X.gguf`, f32 and f16) and loaded by
/// llama.cpp, once for the whole class.
/// </summary>
public sealed class ExportedStories260K : IDisposable
{
    private readonly TempDir _dir = new("export-gguf");

    public ExportedStories260K()
    {
        F32Path = _dir.File("stories260K-f32.gguf");
        F16Path = _dir.File("stories260K-f16.gguf");
        F32Cli = AwqCli.Succeed("export-gguf", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--out", F32Path);
        F16Cli = AwqCli.Succeed("export-gguf", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--out", F16Path, "--type", "f16");
        F32 = LlamaCppModel.Load(F32Path, LlamaCppFixture.F32Options);
        F16 = LlamaCppModel.Load(F16Path, LlamaCppFixture.F32Options);
    }

    public string F32Path { get; }
    public string F16Path { get; }
    internal CliResult F32Cli { get; }
    internal CliResult F16Cli { get; }
    public LlamaCppModel F32 { get; }
    public LlamaCppModel F16 { get; }

    public void Dispose()
    {
        F32.Dispose();
        F16.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// The GGUF that `awq export-gguf` writes from the llama2.c .bin
/// loads in llama.cpp, which then agrees with our runtime (on the .bin) to 1e-3 on every logit of
/// 2048 eval tokens and gives identical greedy continuations.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class ExportedGgufVersusLlamaCppTests(ExportedStories260K exported, ITestOutputHelper output) : IClassFixture<ExportedStories260K>
{
    private static readonly Lazy<LlamaModel> FromBin = new(() =>
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        return LlamaModel.FromWeights(src);
    });

    private static int[] EvalTokens(int count) => TokenizerVersusLlamaCppTests.OurEvalTokens().Take(count).ToArray();

    [Fact]
    public void The_cli_reports_the_files_and_llama_cpp_reads_the_model_as_written()
    {
        Assert.StartsWith("wrote ", exported.F32Cli.Stdout);
        Assert.Contains("F32", exported.F32Cli.Stdout);
        Assert.Contains("F16", exported.F16Cli.Stdout);
        foreach (var (m, fileType) in new[] { (exported.F32, "0"), (exported.F16, "1") })
        {
            Assert.Equal("llama", m.Metadata["general.architecture"]);
            Assert.Equal(fileType, m.Metadata["general.file_type"]); // llama_ftype ALL_F32 = 0, MOSTLY_F16 = 1
            Assert.Equal((512, 5, 8, 4, 64), (m.VocabSize, m.LayerCount, m.HeadCount, m.KvHeadCount, m.EmbeddingLength));
            Assert.Equal(((int?)1, (int?)2), (m.BosToken, m.EosToken));
            // The .bin shares its classifier with the embedding; the exporter writes output.weight anyway
            // (llama.cpp accepts both), so llama.cpp counts the embedding twice.
            Assert.Equal(260_032 + 512 * 64, m.ParameterCount);
        }
        // The f16 file holds half the bytes of tensors the f32 one holds (norms stay f32).
        Assert.InRange(exported.F16.TensorBytes, exported.F32.TensorBytes / 2, exported.F32.TensorBytes * 6 / 10);
    }

    [Fact]
    public void Llama_cpp_tokenizes_with_the_exported_vocabulary_as_we_do()
    {
        var text = File.ReadAllText(SharedData.EvalText)[..50_000];
        var ours = TokenizerVersusLlamaCppTests.OurEvalTokens();
        var theirs = exported.F32.Tokenize(text, addBos: true);
        // The prefix of the text tokenizes like the same prefix of the whole stream, except possibly
        // the last token or two where the cut falls.
        TokenizerVersusLlamaCppTests.AssertSameIds(ours.Take(theirs.Length - 2).ToArray(), theirs[..^2], "eval text prefix");
    }

    [Fact]
    public void Logits_agree_within_1e3_on_2048_eval_tokens_in_windows_of_512()
    {
        var worst = RuntimeComparison.MaxAbsLogitDifference(FromBin.Value, exported.F32, EvalTokens(2048), 512);
        output.WriteLine($"f32 export: max |logit difference| = {worst:E3}");
        Assert.True(worst <= 1e-3, $"max |logit difference| = {worst}");
    }

    [Fact]
    public void Greedy_continuations_of_ten_prompts_are_identical()
    {
        var tokens = EvalTokens(4000);
        foreach (var prompt in RuntimeComparison.TenPrompts(tokens))
            Assert.Equal(RuntimeComparison.TheirGreedy(exported.F32, prompt, 64), RuntimeComparison.OurGreedy(FromBin.Value, prompt, 64));
    }

    [Fact]
    public void The_f32_export_holds_the_bin_weights_exactly_and_the_f16_export_their_fp16_rounding()
    {
        using var bin = CheckpointLoader.Open(SharedData.Stories260KBin);
        using var f32 = CheckpointLoader.Open(exported.F32Path);
        using var f16 = CheckpointLoader.Open(exported.F16Path);
        Assert.Equal(bin.Config with { Name = "", TieWordEmbeddings = false, RopeDim = 8 }, f32.Config with { Name = "" });
        Assert.Equal(bin.ReadFloat32(LlamaTensorNames.Embedding), f32.ReadFloat32(LlamaTensorNames.Output));
        foreach (var (name, _) in LlamaWeightShapes.Expected(bin.Config).Where(t => bin.Contains(t.Name)))
        {
            var w = bin.ReadFloat32(name);
            Assert.Equal(w, f32.ReadFloat32(name));
            var isNorm = name.EndsWith("norm.weight", StringComparison.Ordinal);
            Assert.Equal(isNorm ? w : w.Select(Fp16.Round).ToArray(), f16.ReadFloat32(name));
        }
    }

    [Fact]
    public void The_f16_export_runs_in_llama_cpp_close_to_our_runtime_on_the_same_file()
    {
        using var src = CheckpointLoader.Open(exported.F16Path);
        var ours = LlamaModel.FromWeights(src);
        var tokens = EvalTokens(512);
        // ggml multiplies F16 weights with activations rounded to F16, we keep activations in F32:
        // close, not equal (measured max ≈ 1e-2 here).
        var worst = RuntimeComparison.MaxAbsLogitDifference(ours, exported.F16, tokens, 512);
        output.WriteLine($"f16 export: max |logit difference| = {worst:E3}");
        Assert.True(worst <= 5e-2, $"max |logit difference| = {worst}");
        var prompt = RuntimeComparison.TenPrompts(tokens).First();
        Assert.Equal(RuntimeComparison.TheirGreedy(exported.F16, prompt, 32), RuntimeComparison.OurGreedy(ours, prompt, 32));
    }
}
