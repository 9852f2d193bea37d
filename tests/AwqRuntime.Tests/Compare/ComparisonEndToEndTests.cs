using AwqRuntime.Synthetic;
using AwqRuntime.Cli.Commands;
using AwqRuntime.Comparison;
using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Compare;

/// <summary>
/// `awq compare` end to end on a tiny synthetic LLaMA (2 layers, hidden 128, intermediate 172 like
/// stories260K so that llama.cpp's 32-blocks cannot split ffn_down, vocabulary of tok512): every row
/// of the full comparison plus two that must fail, through the CLI's path (table, Markdown, PNG), on 3 windows
/// of 128 tokens with a small calibration set.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public sealed class ComparisonEndToEndTests : IDisposable
{
    private readonly TempDir _dir = new("compare");

    public void Dispose() => _dir.Dispose();

    private static readonly LlamaConfig Config = SyntheticModel.PresetConfig("tiny", vocabSize: 512, numLayers: 2) with
    {
        IntermediateSize = 172, Name = "synthetic-172",
    };

    private string WriteModel()
    {
        var folder = _dir.File("model");
        var spec = TokenizerFiles.Read(SharedData.Tok512);
        using var src = new SyntheticWeightSource(Config, seed: 5);
        HfCheckpointWriter.Write(src, folder, TensorDType.F16, new HfWriteOptions { AddFiles = tmp => HfTokenizerWriter.Write(spec, tmp) });
        return folder;
    }

    [Fact]
    public void Report_has_every_row_llama_cpp_f32_agrees_and_failing_baselines_become_error_rows()
    {
        var options = new ComparisonOptions
        {
            ModelPath = WriteModel(),
            EvalTextPath = SharedData.EvalText,
            CalibrationTextPath = SharedData.CalibText,
            CalibrationSamples = 8,
            CalibrationSeqLen = 64,
            Context = 128,
            MaxChunks = 3,
            Threads = 2,
            SpeedRuns = 1,
            SpeedPromptTokens = 64,
            SpeedDecodeTokens = 16,
            WorkFolder = _dir.File("work"),
            Rows = [.. ComparisonRowSpec.Defaults, ComparisonRowSpec.LlamaCpp("Q4_0", autoOverrides: false), ComparisonRowSpec.LlamaCpp("Q9_9")],
            CommandLine = "awq compare (test)",
        };
        var md = _dir.File("out/report.md");
        var png = _dir.File("out/report.png");
        var report = CompareCommand.Execute(new CompareCommand.CompareSettings(options, md, png, Json: false, Quiet: true));

        var expected = new[]
        {
            "FP32 (ours)", "F32 (llama.cpp)", "AWQ g32", "AWQ g64", "AWQ g32, down_proj fp16", "AWQ g32 → GGUF Q4_1 (llama.cpp)", "RTN g32", "RTN g64", "Q8_0", "Q5_K_M", "Q4_K_M",
            "Q4_1", "Q4_0", "Q4_K_M + imatrix", "Q4_1 + imatrix", "Q4_0 + imatrix", "AWQ-scaled Q4_K_M", "AWQ-scaled Q4_0", "Q4_0 (no overrides)", "Q9_9",
        };
        Assert.Equal(expected, report.Rows.Select(r => r.Name).ToArray());
        Assert.Equal(3, report.Metadata.Windows);
        Assert.Equal(3 * 63, report.Metadata.ScoredTokens);
        Assert.Equal(2, report.Metadata.Threads);

        // Failures are rows, with llama.cpp's own reason or ours, and nothing measured.
        var refused = report.Row("Q4_0 (no overrides)")!;
        Assert.Contains("no tensor type fallback", refused.Error);
        var unknown = report.Row("Q9_9")!;
        Assert.Contains("unknown quantization type 'Q9_9'", unknown.Error);
        foreach (var failed in new[] { refused, unknown })
        {
            Assert.Null(failed.MeanKld);
            Assert.Null(failed.PrefillTokensPerSecond);
        }

        var ok = report.Rows.Where(r => r.Error == null).ToList();
        Assert.Equal(expected.Length - 2, ok.Count);
        foreach (var r in ok)
        {
            Assert.True(r.FileBytes > 0 && double.IsFinite(r.BitsPerWeight!.Value) && double.IsFinite(r.LinearBitsPerWeight!.Value), r.Name);
            Assert.True(double.IsFinite(r.Perplexity!.Value) && r.MeanKld >= 0 && r.KldP99 >= r.MeanKld * 0 && r.Top1Agreement is > 0 and <= 1, r.Name);
            Assert.True(r.PrefillTokensPerSecond > 0 && r.DecodeTokensPerSecond > 0, r.Name);
            Assert.True(File.Exists(r.Path) || Directory.Exists(r.Path), r.Name);
        }

        // The reference and llama.cpp's F32 agree before anything is quantized.
        var fp32 = report.Row("FP32 (ours)")!;
        var f32 = report.Row("F32 (llama.cpp)")!;
        Assert.Equal(0, fp32.MeanKld);
        Assert.Equal(1, fp32.Top1Agreement);
        Assert.True(f32.MeanKld < 1e-6, $"KLD(FP32 ours ‖ F32 llama.cpp) = {f32.MeanKld}");
        Assert.True(Math.Abs(f32.Perplexity!.Value - fp32.Perplexity!.Value) < 1e-4 * fp32.Perplexity, $"{f32.Perplexity} vs {fp32.Perplexity}");
        Assert.Equal(32.0, f32.LinearBitsPerWeight!.Value, 9);

        // Quantization is visible, and finer formats are closer.
        foreach (var r in ok.Where(r => !r.IsFullPrecision))
            Assert.True(r.MeanKld > 100 * f32.MeanKld, $"{r.Name}: KLD {r.MeanKld} is not above the F32 noise {f32.MeanKld}");
        Assert.True(report.Row("Q8_0")!.MeanKld < report.Row("Q4_0")!.MeanKld);
        // An imatrix row is the same format, same size, quantized differently.
        Assert.Equal(report.Row("Q4_0")!.FileBytes, report.Row("Q4_0 + imatrix")!.FileBytes);
        Assert.NotEqual(report.Row("Q4_0")!.MeanKld, report.Row("Q4_0 + imatrix")!.MeanKld);
        Assert.True(report.Row("AWQ g32")!.MeanKld < report.Row("RTN g64")!.MeanKld);

        // Bits per weight from the bytes of AutoAWQ's GEMM layout: qweight [in, ⌈out/8⌉] and qzeros
        // [groups, ⌈out/8⌉] int32 (8 nibbles each, so 172 outputs are padded to 176), scales [groups, out]
        // fp16; groups = ⌈in/group⌉ (a short last group for 172 inputs).
        double Int4Bits(int group, params string[] fp16Kinds)
        {
            double bits = 0, weights = 0;
            foreach (var kind in LinearKinds.All)
            {
                var shape = LlamaWeightShapes.Linear(Config, kind);
                long outF = shape[0], inF = shape[1], groups = (inF + group - 1) / group, packed = (outF + 7) / 8;
                weights += outF * inF;
                bits += fp16Kinds.Contains(kind.Name()) ? outF * inF * 16 : inF * packed * 32 + groups * packed * 32 + groups * outF * 16;
            }
            return bits / weights;
        }
        Assert.Equal(Int4Bits(32), report.Row("AWQ g32")!.LinearBitsPerWeight!.Value, 9);
        Assert.Equal(Int4Bits(64), report.Row("RTN g64")!.LinearBitsPerWeight!.Value, 9);
        Assert.Equal(Int4Bits(32, "down_proj"), report.Row("AWQ g32, down_proj fp16")!.LinearBitsPerWeight!.Value, 9);

        // llama.cpp Q4_0: 18 bytes per 32 weights, ffn_down kept at F16 by our override and counted.
        var q4 = report.Row("Q4_0")!;
        Assert.Equal(2, q4.TensorTypes!["F16"]);
        Assert.Contains(q4.Notes, n => n.Contains("override") && n.Contains("ffn_down ×2"));
        var down = 172.0 * 128;
        var others = LinearKinds.All.Where(k => k != LinearKind.DownProj).Sum(k => LlamaWeightShapes.Linear(Config, k).Aggregate(1L, (a, d) => a * d));
        Assert.Equal((others * 4.5 + down * 16) / (others + down), q4.LinearBitsPerWeight!.Value, 9);
        Assert.Equal(2, GgufTensorTable.Read(q4.Path!).Count(t => t.TypeName == "F16"));

        // K-quants fall back by themselves on rows of 128/172; the report says so.
        var k = report.Row("Q4_K_M")!;
        Assert.DoesNotContain(k.TensorTypes!.Keys, t => t.EndsWith("_K", StringComparison.Ordinal));
        Assert.Contains(k.Notes, n => n.StartsWith("llama.cpp fell back", StringComparison.Ordinal));
        Assert.Contains(report.Row("AWQ-scaled Q4_0")!.Notes, n => n.StartsWith("source: AWQ-scaled", StringComparison.Ordinal));

        // AWQ's own INT4 as Q4_1 on llama.cpp: the AWQ g32 row's quality, within llama.cpp's 8-bit activations.
        var exact = report.Row("AWQ g32 → GGUF Q4_1 (llama.cpp)")!;
        Assert.True(Math.Abs(exact.MeanKld!.Value - report.Row("AWQ g32")!.MeanKld!.Value) <= 1e-3,
            $"AWQ g32 as Q4_1 on llama.cpp: KLD {exact.MeanKld} vs ours {report.Row("AWQ g32")!.MeanKld}");
        Assert.Equal(2, exact.TensorTypes!["F32"] - 2 * Config.NumLayers - 1); // down_proj ×2 (172 wide) exact in F32, beside the norms

        // Every GGUF the comparison wrote (llama.cpp's quantizations included) loads and generates in our runtime.
        foreach (var r in ok.Where(r => r.Path!.EndsWith(".gguf", StringComparison.Ordinal)))
        {
            using var m = AwqModel.FromPretrained(r.Path!);
            var result = m.CreateGenerator().Generate("Once upon a time", new AwqRuntime.Generation.GenerationOptions { MaxTokens = 4, StopAtEos = false });
            Assert.True(result.Tokens.Count == 4, $"{r.Name}: {result.Tokens.Count} tokens generated from {r.Path}");
        }

        // Outputs: every row in the Markdown and the JSON, and a real PNG.
        var markdown = File.ReadAllText(md);
        foreach (var r in report.Rows) Assert.Contains($"| {r.Name}", markdown);
        Assert.Contains("![KL divergence against bits per weight](report.png)", markdown);
        Assert.Contains("`awq compare (test)`", markdown);
        var json = ComparisonJson.Deserialize(ComparisonJson.Serialize(report));
        Assert.Equal(expected, json.Rows.Select(r => r.Name).ToArray());
        PngAssert.IsPng(png, ComparisonPlot.Width, ComparisonPlot.Height);
    }

    [Fact]
    public void The_llama_cpp_compatible_awq_row_keeps_exactly_the_linears_32_does_not_divide()
    {
        Assert.Equal(["down_proj"], ComparisonRunner.LinearsLlamaCppCannotSplit(Config));
        Assert.Empty(ComparisonRunner.LinearsLlamaCppCannotSplit(SyntheticModel.PresetConfig("tiny")));
        // hidden 80: every linear that reads the hidden state (and o_proj, 4 heads of 20) has rows of 80.
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj"],
            ComparisonRunner.LinearsLlamaCppCannotSplit(SyntheticModel.PresetConfig("tiny") with { HiddenSize = 80 }));
    }
}
