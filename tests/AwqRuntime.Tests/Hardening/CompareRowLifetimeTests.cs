using AwqRuntime.Comparison;
using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// `awq compare` used to keep every row loaded until all were evaluated (12.9 GB peak for a
/// 483M-parameter model with four rows). It now runs its rows one after another against reference
/// logits stored on disk: no row's model is alive when the next is loaded, the stored reference
/// gives the metrics of an in-memory <see cref="Evaluator.Compare"/> to the last digit, and the
/// file is gone afterwards, also when the run is cancelled. A tiny synthetic LLaMA (2 layers, hidden 128, vocabulary of tok512), 3 windows of 128.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public sealed class CompareRowLifetimeTests : IDisposable
{
    private const int Threads = 2;
    private readonly TempDir _dir = new("compare-rows");

    public void Dispose() => _dir.Dispose();

    private string WriteModel()
    {
        var folder = _dir.File("model");
        if (Directory.Exists(folder)) return folder;
        var spec = TokenizerFiles.Read(SharedData.Tok512);
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("tiny", vocabSize: 512, numLayers: 2), seed: 11);
        HfCheckpointWriter.Write(src, folder, TensorDType.F16, new HfWriteOptions { AddFiles = tmp => HfTokenizerWriter.Write(spec, tmp) });
        return folder;
    }

    private ComparisonOptions Options(IReadOnlyList<ComparisonRowSpec> rows, bool speed) => new()
    {
        ModelPath = WriteModel(),
        EvalTextPath = SharedData.EvalText,
        CalibrationTextPath = SharedData.CalibText,
        CalibrationSamples = 4,
        CalibrationSeqLen = 64,
        Context = 128,
        MaxChunks = 3,
        Threads = Threads,
        SpeedRuns = 1,
        SpeedPromptTokens = speed ? 16 : 0,
        SpeedDecodeTokens = speed ? 4 : 0,
        WorkFolder = _dir.File("work"),
        Rows = rows,
    };

    private string CachePath => Path.Combine(_dir.File("work"), ReferenceLogitsFile.FileName);

    [Fact]
    public void Each_row_is_released_before_the_next_is_loaded()
    {
        ComparisonRowSpec[] rows =
        [
            ComparisonRowSpec.OursFp32(), ComparisonRowSpec.Rtn(32), ComparisonRowSpec.LlamaCppF32(), ComparisonRowSpec.LlamaCpp("Q8_0"), ComparisonRowSpec.Rtn(64),
        ];
        var loaded = new List<(string Type, WeakReference Model)>();
        var aliveAtLoad = new List<string>();
        var report = ComparisonRunner.Run(Options(rows, speed: true), null, default, model =>
        {
            Collect();
            aliveAtLoad.AddRange(loaded.Where(l => l.Model.IsAlive).Select(l => $"{l.Type} #{loaded.IndexOf(l)} when #{loaded.Count} loaded"));
            loaded.Add((model.GetType().Name, new WeakReference(model)));
        });

        Assert.All(report.Rows, r => Assert.Null(r.Error));
        Assert.All(report.Rows, r => Assert.True(r.PrefillTokensPerSecond > 0 && r.MeanKld >= 0, r.Name)); // every row ran and was timed
        // One model per row: the FP32 reference, ours twice, llama.cpp twice; each gone before the next.
        Assert.Equal(["LlamaModel", "LlamaModel", "LlamaCppModel", "LlamaCppModel", "LlamaModel"], loaded.Select(l => l.Type).ToArray());
        Assert.Empty(aliveAtLoad);
        Collect();
        Assert.All(loaded, l => Assert.False(l.Model.IsAlive, l.Type));
        Assert.False(File.Exists(CachePath));
    }

    [Fact]
    public void Metrics_scored_against_the_stored_reference_equal_an_in_memory_comparison_exactly()
    {
        var options = Options([ComparisonRowSpec.OursFp32(), ComparisonRowSpec.Rtn(32), ComparisonRowSpec.LlamaCpp("Q8_0")], speed: false);
        var report = ComparisonRunner.Run(options);
        Assert.All(report.Rows, r => Assert.Null(r.Error));
        Assert.False(File.Exists(CachePath));

        // The same windows and models, every row beside the reference in memory (the path the runner took before).
        var previousThreads = AwqRuntime.Native.Kernels.Threads;
        AwqRuntime.Native.Kernels.Threads = Threads;
        try
        {
            using var fp32 = AwqModel.FromPretrained(options.ModelPath);
            var ids = fp32.Tokenizer.Encode(File.ReadAllText(options.EvalTextPath), addBos: true);
            var windows = EvalWindows.Build(ids, options.Context, fp32.Tokenizer.Spec.BosId, options.MaxChunks!.Value);
            using var rtn = AwqModel.FromQuantized(report.Row("RTN g32")!.Path!);
            using var q8 = LlamaCppModel.Load(report.Row("Q8_0")!.Path!, new LlamaCppOptions
            {
                ContextSize = options.Context, Threads = Threads, KvCacheType = KvCacheType.F32,
            });
            var results = Evaluator.Compare(new RuntimeLogitsSource(fp32.Model, "FP32"),
                [new RuntimeLogitsSource(rtn.Model, "RTN g32"), new LlamaCppLogitsSource(q8, "Q8_0")], windows);

            foreach (var (name, result) in new[] { ("RTN g32", results[0]), ("Q8_0", results[1]) })
            {
                var row = report.Row(name)!;
                var m = result.Summary();
                Assert.True(m.MeanKld > 0, name);
                Assert.Equal(m.Perplexity, row.Perplexity);
                Assert.Equal(m.MeanKld, row.MeanKld);
                Assert.Equal(m.KldP99, row.KldP99);
                Assert.Equal(m.Top1Agreement, row.Top1Agreement);
                Assert.Equal(m.RmsDeltaP, row.RmsDeltaP);
            }
            var reference = report.Row("FP32 (ours)")!;
            Assert.Equal(results[0].Reference.Perplexity, reference.Perplexity);
            Assert.Equal(0, reference.MeanKld);
        }
        finally
        {
            AwqRuntime.Native.Kernels.Threads = previousThreads;
        }
    }

    [Fact]
    public void The_stored_reference_holds_every_scored_logit_while_rows_run_and_is_deleted_when_the_run_is_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        long? sizeDuringRow = null;
        var progress = new InlineProgress<ComparisonProgress>(p =>
        {
            if (!p.Message.StartsWith("[2/3] RTN g32: window", StringComparison.Ordinal)) return;
            sizeDuringRow ??= new FileInfo(CachePath).Length;
            cancel.Cancel();
        });
        var options = Options([ComparisonRowSpec.OursFp32(), ComparisonRowSpec.Rtn(32), ComparisonRowSpec.LlamaCpp("Q8_0")], speed: false);
        Assert.ThrowsAny<OperationCanceledException>(() => ComparisonRunner.Run(options, progress, cancel.Token));

        Assert.Equal(3L * 63 * 512 * sizeof(float), sizeDuringRow); // 3 windows × 63 scored positions × 512 float32 logits
        Assert.False(File.Exists(CachePath));
        Assert.False(Directory.Exists(Path.Combine(_dir.File("work"), "gguf")), "the run went on past the cancelled row");
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }
}
