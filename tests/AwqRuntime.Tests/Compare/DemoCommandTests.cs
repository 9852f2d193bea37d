using AwqRuntime.Synthetic;
using AwqRuntime.Cli;
using AwqRuntime.Comparison;
using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Compare;

/// <summary>`awq demo` and `awq compare` through the command line parser, on a tiny synthetic model with a few rows.</summary>
[Collection(LlamaCppCollection.Name)]
public sealed class DemoCommandTests : IDisposable
{
    private readonly TempDir _dir = new("demo");

    public void Dispose() => _dir.Dispose();

    private string WriteModel()
    {
        var folder = _dir.File("model");
        var spec = TokenizerFiles.Read(SharedData.Tok512);
        var config = SyntheticModel.PresetConfig("tiny", vocabSize: 512, numLayers: 1);
        using var src = new SyntheticWeightSource(config, seed: 3);
        HfCheckpointWriter.Write(src, folder, TensorDType.F16, new HfWriteOptions { AddFiles = tmp => HfTokenizerWriter.Write(spec, tmp) });
        return folder;
    }

    private static readonly string[] SmallRun =
    [
        "--ctx", "64", "--chunks", "2", "--calib-samples", "4", "--calib-seqlen", "32", "--runs", "1", "--threads", "2", "--quiet",
    ];

    [Fact]
    public void Demo_writes_report_and_plot_into_the_work_folder()
    {
        var work = _dir.File("work");
        var code = Program.BuildRoot().Parse(
        [
            "demo", "--model", WriteModel(), "--data", SharedData.EvalText, "--calib", SharedData.CalibText, "--work", work,
            "--rows", "AWQ g32", "Q4_0", "--story-tokens", "8", .. SmallRun,
        ]).Invoke();
        Assert.Equal(0, code);
        var md = File.ReadAllText(Path.Combine(work, "report.md"));
        Assert.Contains("| AWQ g32 | ours |", md);
        Assert.Contains("| Q4_0 | llama.cpp |", md);
        Assert.Contains("`awq demo --model", md);
        PngAssert.IsPng(Path.Combine(work, "report.png"), ComparisonPlot.Width, ComparisonPlot.Height);
        Assert.True(File.Exists(Path.Combine(work, "ours", "awq-g32", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(work, "gguf", "q4_0.gguf")));
    }

    [Fact]
    public void Compare_without_work_folder_deletes_its_temporary_files_and_rejects_bad_options()
    {
        var model = WriteModel();
        var md = _dir.File("r.md");
        static HashSet<string> Temporaries() => Directory.EnumerateDirectories(Path.GetTempPath(), "awq-compare-*").ToHashSet();
        var before = Temporaries();
        var code = Program.BuildRoot().Parse(
        [
            "compare", model, "--data", SharedData.EvalText, "--calib", SharedData.CalibText, "--rows", "rtn:g32", "--no-speed", "--out", md, .. SmallRun,
        ]).Invoke();
        Assert.Equal(0, code);
        var text = File.ReadAllText(md);
        Assert.Contains("| RTN g32 | ours |", text);
        Assert.Contains("Speed: not measured.", text);
        Assert.Empty(Temporaries().Except(before)); // the default work folder is deleted afterwards

        Assert.Equal(1, Program.BuildRoot().Parse(["compare", model, "--data", SharedData.EvalText, "--rows", "Q9_9", "--quiet"]).Invoke());
        Assert.Equal(1, Program.BuildRoot().Parse(["compare", model, "--data", SharedData.EvalText, "--runs", "0", "--quiet"]).Invoke());
        Assert.Equal(1, Program.BuildRoot().Parse(["compare", model, "--data", _dir.File("missing.txt"), "--quiet"]).Invoke());
    }
}
