using AwqRuntime.Cli.Commands;
using AwqRuntime.Comparison;
using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Observers;
using AwqRuntime.Quantization.Qat;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Compare;

/// <summary>
/// `awq compare` rows for every quantization method on a tiny synthetic LLaMA: each is quantized,
/// saved, reloaded and scored like the AWQ and RTN rows, on the same windows.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public sealed class ComparisonMethodRowsTests : IDisposable
{
    private readonly TempDir _dir = new("compare-methods");

    public void Dispose() => _dir.Dispose();

    /// <summary>A 2-layer tiny synthetic LLaMA (vocabulary 512) saved as an HF folder with the stories tokenizer.</summary>
    private string TinyModel(string name, int seed)
    {
        var folder = _dir.File(name);
        var spec = TokenizerFiles.Read(SharedData.Tok512);
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("tiny", vocabSize: 512, numLayers: 2), (ulong)seed);
        HfCheckpointWriter.Write(src, folder, TensorDType.F16, new HfWriteOptions { AddFiles = tmp => HfTokenizerWriter.Write(spec, tmp) });
        return folder;
    }

    [Fact]
    public void Every_method_is_a_row_scored_on_the_same_tokens()
    {
        var folder = TinyModel("model", seed: 8);
        var rows = new[]
        {
            ComparisonRowSpec.OursFp32(), ComparisonRowSpec.Rtn(32), ComparisonRowSpec.Awq(32),
            ComparisonRowSpec.Ours(QuantMethod.Gptq, 32), ComparisonRowSpec.Ours(QuantMethod.AwqGptq, 32), ComparisonRowSpec.Ours(QuantMethod.Qat, 32),
            ComparisonRowSpec.Ours(QuantMethod.W8A8Dynamic), ComparisonRowSpec.Ours(QuantMethod.W8A8Static, observer: ObserverKind.Mse),
        };
        var options = new ComparisonOptions
        {
            ModelPath = folder, EvalTextPath = SharedData.EvalText, CalibrationTextPath = SharedData.CalibText,
            CalibrationSamples = 8, CalibrationSeqLen = 64, Context = 128, MaxChunks = 2, Threads = 2,
            SpeedRuns = 1, SpeedPromptTokens = 0, SpeedDecodeTokens = 0, WorkFolder = _dir.File("work"),
            Rows = rows, Qat = new QatOptions { Steps = 8 }, CommandLine = "awq compare (test)",
        };
        var report = CompareCommand.Execute(new CompareCommand.CompareSettings(options, null, null, Json: false, Quiet: true));
        Assert.Equal(rows.Select(r => r.Name), report.Rows.Select(r => r.Name));
        foreach (var r in report.Rows.Skip(1))
        {
            Assert.Null(r.Error);
            Assert.True(r.MeanKld > 0 && double.IsFinite(r.Perplexity!.Value), r.Name);
            Assert.Equal("ours", r.Runtime);
        }
        Assert.StartsWith("INT4 g32", report.Row("QAT g32")!.Format);
        Assert.StartsWith("INT8", report.Row("W8A8 dynamic")!.Format);
        // 8-bit weights are much closer than 4-bit ones
        Assert.True(report.Row("W8A8 dynamic")!.MeanKld < 0.5 * report.Row("RTN g32")!.MeanKld);
        Assert.True(report.Row("W8A8 static (mse)")!.MeanKld < report.Row("RTN g32")!.MeanKld);
    }

    [Fact]
    public void A_mixed_width_row_runs_its_own_search_even_after_a_4_bit_row_of_its_group_size()
    {
        var folder = TinyModel("model-mix", seed: 9);
        var mix = ComparisonRowSpec.Awq(32).WithModuleBits(ComparisonRowSpec.MixRecipe);
        byte[] MixCheckpoint(string work, params ComparisonRowSpec[] rows)
        {
            var options = new ComparisonOptions
            {
                ModelPath = folder, EvalTextPath = SharedData.EvalText, CalibrationTextPath = SharedData.CalibText,
                CalibrationSamples = 4, CalibrationSeqLen = 64, Context = 128, MaxChunks = 1, Threads = 2,
                SpeedRuns = 1, SpeedPromptTokens = 0, SpeedDecodeTokens = 0, WorkFolder = _dir.File(work),
                Rows = [ComparisonRowSpec.OursFp32(), .. rows], CommandLine = "awq compare (test)",
            };
            var report = CompareCommand.Execute(new CompareCommand.CompareSettings(options, null, null, Json: false, Quiet: true));
            var row = report.Row(mix.Name)!;
            Assert.Null(row.Error);
            Assert.StartsWith("INT4/INT8 g32", row.Format);
            return File.ReadAllBytes(Path.Combine(row.Path!, "model.safetensors"));
        }
        // after AWQ g32 the 4-bit search is cached; the mixed row must not take it (its widths search differently)
        Assert.Equal(MixCheckpoint("work-alone", mix), MixCheckpoint("work-after", ComparisonRowSpec.Awq(32), mix));
    }
}
