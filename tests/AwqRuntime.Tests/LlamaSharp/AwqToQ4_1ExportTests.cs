using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Generation;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.LlamaSharp;

/// <summary>
/// An AWQ model's INT4 groups written into GGUF Q4_1 blocks as they are: every linear 32 divides
/// reads back with the same q, scales and zero points, our runtime on the file computes what the AWQ
/// model computes, and llama.cpp on the file is within 1e-3 mean KLD of our AWQ model's logits —
/// AWQ's own rounding, run by llama.cpp.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public sealed class AwqToQ4_1ExportTests : IDisposable
{
    private readonly TempDir _dir = new("q4_1");

    public void Dispose() => _dir.Dispose();

    /// <summary>Mean KL(ours ‖ llama.cpp on <paramref name="gguf"/>) over the positions of <paramref name="tokens"/>.</summary>
    private static double MeanKldOfLlamaCpp(string gguf, int[] tokens, float[] reference, int vocab)
    {
        using var llama = LlamaCppModel.Load(gguf, LlamaCppFixture.F32Options);
        var theirs = llama.EvaluateLogits(tokens);
        double kld = 0;
        for (var p = 0; p < tokens.Length; p++) kld += GgufQuantizerTests.KlDivergence(reference.AsSpan(p * vocab, vocab), theirs.AsSpan(p * vocab, vocab));
        return kld / tokens.Length;
    }

    public static TheoryData<string, int> Models => new() { { "stories260K", 32 }, { "llama3", 128 } };

    private static (IWeightSource Source, TokenizerSpec Tokenizer) Open(string model)
    {
        var spec = TokenizerFiles.Read(SharedData.Tok512, 512);
        if (model == "stories260K") return (CheckpointLoader.Open(SharedData.Stories260KBin), spec);
        // every width a multiple of 128, Llama 3.1 rope scaling, tied embeddings (SyntheticModel's llama3 preset)
        return (new SyntheticWeightSource(SyntheticModel.PresetConfig("llama3", vocabSize: 512), seed: 7), spec);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Awq_weights_survive_as_q4_1_and_llama_cpp_runs_them(string model, int groupSize)
    {
        var (source, spec) = Open(model);
        using var _ = source;
        var tokenizer = Tokenizer.FromSpec(spec);
        var calib = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tokenizer.Encode(t, addBos: true), 16, 128, "calib");
        var awq = AwqQuantizer.Quantize(source, calib, new AwqConfig { GroupSize = groupSize }).Model;
        var path = _dir.File("awq-q4_1.gguf");
        using (var weights = new ModelWeightSource(awq, $"{model} AWQ g{groupSize}"))
            GgufModelExporter.Export(weights, path, GgufExportType.Q4_1, GgufTokenizerWriter.ToMetadata(spec));

        using var file = GgufWeightSource.Open(path);
        var c = awq.Config;
        var q4_1 = 0;
        for (var l = 0; l < c.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
            {
                var name = LlamaTensorNames.Linear(l, kind);
                var original = ((Int4Linear)awq.Blocks[l][kind]).ToWeights();
                var stored = file.Info(name).DType;
                if (original.InFeatures % 32 != 0)
                {
                    Assert.Equal(TensorDType.F32, stored);
                    Assert.Equal(original.Dequantize(), file.ReadFloat32(name));
                    continue;
                }
                Assert.Equal(TensorDType.Q4_1, stored);
                q4_1++;
                var back = file.ReadInt4(name)!;
                Assert.Equal(original.Q, back.Q);
                // one group of g is g/32 blocks with the group's scale and zero point
                for (var n = 0; n < original.OutFeatures; n++)
                    for (var b = 0; b < back.Groups; b++)
                    {
                        var g = n * original.Groups + b * 32 / groupSize;
                        Assert.Equal(original.Scales[g], back.Scales[n * back.Groups + b]);
                        Assert.Equal(original.Zeros[g], back.Zeros[n * back.Groups + b]);
                    }
            }
        Assert.True(q4_1 >= c.NumLayers * 6, $"only {q4_1} linears were written as Q4_1");
        Assert.Equal(TensorDType.F16, file.Info(LlamaTensorNames.Embedding).DType);

        int[] tokens = [1, .. tokenizer.Encode(File.ReadAllText(SharedData.EvalText)[..2000], addBos: false).Take(127)];
        var v = c.VocabSize;
        float[] Ours(LlamaModel m)
        {
            var logits = new float[tokens.Length * v];
            m.Forward(tokens, m.CreateCache(tokens.Length), m.CreateBuffers(tokens.Length), logits, LogitsMode.All);
            return logits;
        }
        var reference = Ours(awq);
        var reloaded = Ours(LlamaModel.FromWeights(file));
        double worst = 0;
        for (var i = 0; i < reference.Length; i++) worst = Math.Max(worst, Math.Abs(reference[i] - reloaded[i]));
        Assert.True(worst < 1e-3, $"our runtime on the Q4_1 file vs the AWQ model: max |logit diff| {worst}");

        var kld = MeanKldOfLlamaCpp(path, tokens, reference, v);
        Console.WriteLine($"{model} AWQ g{groupSize} as Q4_1: mean KL(ours AWQ || llama.cpp on the file) = {kld:E3}");
        Assert.True(kld <= 1e-3, $"mean KLD {kld:E3} between our AWQ model and llama.cpp on its Q4_1 export");
    }
    /// <summary>
    /// The Q4_K option: rows of 256 become Q4_K super-blocks whose 6-bit sub-block scales approximate the
    /// AWQ groups' scales. llama.cpp's own dequantization of what we wrote changes the AWQ weights by
    /// exactly the relative RMS the export reports (so the 6-bit packing is what llama.cpp reads), that
    /// change is small, and llama.cpp runs the file close to our AWQ model.
    /// </summary>
    [Theory]
    [InlineData(32)]
    [InlineData(128)]
    public void Awq_weights_as_q4_k_change_by_what_the_export_reports(int groupSize)
    {
        var (source, spec) = Open("llama3");
        using var _ = source;
        var tokenizer = Tokenizer.FromSpec(spec);
        var calib = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tokenizer.Encode(t, addBos: true), 16, 128, "calib");
        var awq = AwqQuantizer.Quantize(source, calib, new AwqConfig { GroupSize = groupSize }).Model;
        var path = _dir.File("awq-q4_k.gguf");
        var reported = new Dictionary<string, double>();
        using (var weights = new ModelWeightSource(awq, $"llama3 AWQ g{groupSize}"))
            GgufModelExporter.Export(weights, path, GgufExportType.Q4_K, GgufTokenizerWriter.ToMetadata(spec), rerounded: (t, c) => reported[t] = c);

        using var file = GgufWeightSource.Open(path);
        var c = awq.Config;
        Assert.Equal(c.NumLayers * 7, reported.Count);
        for (var l = 0; l < c.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
            {
                var name = LlamaTensorNames.Linear(l, kind);
                Assert.Equal(TensorDType.Q4_K, file.Info(name).DType);
                var original = ((Int4Linear)awq.Blocks[l][kind]).ToWeights().Dequantize();
                var raw = file.File.TensorBytes(file.File.Tensors.Single(t => t.Name == GgufTensorNames.ToGguf(name)));
                var theirs = new float[original.Length];
                GgmlDequantize.ToFloat("Q4_K", raw, theirs);
                double err = 0, norm = 0;
                for (var i = 0; i < original.Length; i++)
                {
                    err += Math.Pow(theirs[i] - original[i], 2);
                    norm += Math.Pow(original[i], 2);
                }
                var change = Math.Sqrt(err / norm);
                Assert.True(Math.Abs(change - reported[name]) <= 1e-6, $"{name}: llama.cpp reads a change of {change:E4}, the export reported {reported[name]:E4}");
                Assert.True(change < 0.05, $"{name}: Q4_K changes the AWQ weights by {change:P2}");
            }

        int[] tokens = [1, .. tokenizer.Encode(File.ReadAllText(SharedData.EvalText)[..2000], addBos: false).Take(127)];
        var v = c.VocabSize;
        var reference = new float[tokens.Length * v];
        awq.Forward(tokens, awq.CreateCache(tokens.Length), awq.CreateBuffers(tokens.Length), reference, LogitsMode.All);
        var kld = MeanKldOfLlamaCpp(path, tokens, reference, v);
        Console.WriteLine($"llama3 AWQ g{groupSize} as Q4_K: weight change {reported.Values.Average():P2} mean, KLD(ours AWQ || llama.cpp) {kld:E3}");
        Assert.True(kld <= 1e-2, $"mean KLD {kld:E3}");
    }
}
