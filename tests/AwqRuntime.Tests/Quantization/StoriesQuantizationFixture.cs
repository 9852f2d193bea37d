using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// stories260K quantized four ways with the default calibration (tinystories_calib.txt, 128 x 512
/// tokens) — AWQ and RTN at group sizes 32 and 64 — and all four evaluated once against the FP32 model
/// on the whole of tinystories_eval.txt (llama.cpp's windows of 512, second half scored). Shared by
/// the tests of issue 4's acceptance list; takes a few minutes, so it is built once.
/// </summary>
public sealed class StoriesQuantizationFixture : IDisposable
{
    public StoriesQuantizationFixture()
    {
        Source = CheckpointLoader.Open(SharedData.Stories260KBin);
        Tokenizer = AwqRuntime.Tokenization.Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        Calibration = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => Tokenizer.Encode(t, addBos: true), 128, 512, "tinystories_calib.txt");
        Fp32 = LlamaModel.FromWeights(Source);
        Awq32 = AwqQuantizer.Quantize(Source, Calibration, new AwqConfig { GroupSize = 32 });
        Rtn32 = AwqQuantizer.Quantize(Source, Calibration, new AwqConfig { GroupSize = 32, Method = QuantMethod.Rtn });
        Awq64 = AwqQuantizer.Quantize(Source, Calibration, new AwqConfig { GroupSize = 64 });
        Rtn64 = AwqQuantizer.Quantize(Source, Calibration, new AwqConfig { GroupSize = 64, Method = QuantMethod.Rtn });

        var tokens = Tokenizer.Encode(File.ReadAllText(SharedData.EvalText), addBos: true);
        var windows = EvalWindows.Build(tokens, 512, Tokenizer.Spec.BosId);
        var m = Evaluator.Compare(new RuntimeLogitsSource(Fp32, "fp32"),
            [
                new RuntimeLogitsSource(Awq32.Model, "awq32"), new RuntimeLogitsSource(Rtn32.Model, "rtn32"),
                new RuntimeLogitsSource(Awq64.Model, "awq64"), new RuntimeLogitsSource(Rtn64.Model, "rtn64"),
            ], windows);
        (MAwq32, MRtn32, MAwq64, MRtn64) = (m[0].Summary(), m[1].Summary(), m[2].Summary(), m[3].Summary());
        _windows = windows;
        _selfCalibrated = new Lazy<(DistributionMetrics, DistributionMetrics)>(() =>
        {
            // data-free: 128 x 512 tokens sampled from the FP32 model (awq quantize --calib self, seed 42)
            var self = CalibrationSet.FromModel(Fp32, Tokenizer.Spec.BosId, 128, 512, 42);
            var a32 = AwqQuantizer.Quantize(Source, self, new AwqConfig { GroupSize = 32 });
            var a64 = AwqQuantizer.Quantize(Source, self, new AwqConfig { GroupSize = 64 });
            var r = Evaluator.Compare(new RuntimeLogitsSource(Fp32, "fp32"),
                [new RuntimeLogitsSource(a32.Model, "self32"), new RuntimeLogitsSource(a64.Model, "self64")], _windows);
            return (r[0].Summary(), r[1].Summary());
        });
    }

    private readonly IReadOnlyList<EvalWindow> _windows;
    private readonly Lazy<(DistributionMetrics G32, DistributionMetrics G64)> _selfCalibrated;

    /// <summary>AWQ g32 and g64 calibrated on text sampled from the model itself, evaluated as the others (built on first use).</summary>
    public (DistributionMetrics G32, DistributionMetrics G64) SelfCalibrated => _selfCalibrated.Value;

    public IWeightSource Source { get; }
    public ITokenizer Tokenizer { get; }
    public CalibrationSet Calibration { get; }
    public LlamaModel Fp32 { get; }
    public QuantizationResult Awq32 { get; }
    public QuantizationResult Rtn32 { get; }
    public QuantizationResult Awq64 { get; }
    public QuantizationResult Rtn64 { get; }
    public DistributionMetrics MAwq32 { get; }
    public DistributionMetrics MRtn32 { get; }
    public DistributionMetrics MAwq64 { get; }
    public DistributionMetrics MRtn64 { get; }

    public void Dispose() => Source.Dispose();
}

[CollectionDefinition(Name)]
public sealed class StoriesQuantizationCollection : ICollectionFixture<StoriesQuantizationFixture>
{
    public const string Name = "stories260K quantized";
}
