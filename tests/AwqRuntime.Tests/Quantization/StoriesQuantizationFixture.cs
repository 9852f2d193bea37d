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
    }

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
