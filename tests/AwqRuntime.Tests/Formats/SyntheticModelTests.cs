using AwqRuntime.Synthetic;
using AwqRuntime.Formats;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Formats;

public class SyntheticModelTests
{
    [Fact]
    public void Tiny_preset_writes_a_loadable_hf_folder_with_the_right_shapes()
    {
        using var dir = new TempDir("syn");
        var folder = dir.File("tiny");
        SyntheticModel.WriteHf(folder, new SyntheticModelOptions { VocabSize = 512, Seed = 1 });
        using var hf = HfWeightSource.Open(folder);
        var c = hf.Config;
        Assert.Equal((512, 128, 352, 2, 4, 2, 32), (c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.EffectiveHeadDim));
        Assert.Equal("float16", hf.HfConfig.TorchDtype);
        Assert.All(hf.Tensors, t => Assert.Equal(TensorDType.F16, t.DType));
        Assert.Equal(new long[] { 64, 128 }, hf.Info(LlamaTensorNames.Linear(1, LinearKind.KProj)).Shape);
        Assert.Equal(new long[] { 128, 352 }, hf.Info(LlamaTensorNames.Linear(1, LinearKind.DownProj)).Shape);
        Assert.Equal(new long[] { 512, 128 }, hf.Info(LlamaTensorNames.Output).Shape);

        // Loaded values are the generator's, up to fp16 rounding (and with q/k permuted back).
        using var gen = SyntheticModel.Create(new SyntheticModelOptions { VocabSize = 512, Seed = 1 });
        foreach (var t in gen.Tensors)
        {
            var a = gen.ReadFloat32(t.Name);
            var b = hf.ReadFloat32(t.Name);
            for (var i = 0; i < a.Length; i++) Assert.Equal((float)(Half)a[i], b[i]);
        }
    }

    [Fact]
    public void Weights_are_deterministic_and_have_trained_model_statistics_with_outliers()
    {
        var opts = new SyntheticModelOptions { VocabSize = 1000, Seed = 42 };
        using var a = SyntheticModel.Create(opts);
        using var b = SyntheticModel.Create(opts);
        using var other = SyntheticModel.Create(opts with { Seed = 43 });
        var name = LlamaTensorNames.Linear(1, LinearKind.UpProj);
        var w = a.ReadFloat32(name);
        Assert.Equal(w, b.ReadFloat32(name));
        Assert.NotEqual(w, other.ReadFloat32(name));
        Assert.NotEqual(w, a.ReadFloat32(LlamaTensorNames.Linear(1, LinearKind.GateProj)));

        var mean = w.Average(x => (double)x);
        var std = Math.Sqrt(w.Average(x => (x - mean) * (x - mean)));
        Assert.InRange(mean, -0.001, 0.001);
        Assert.InRange(std, 0.019, 0.021);

        var outliers = a.OutlierChannels;
        Assert.Equal(2, outliers.Count);
        var n0 = a.ReadFloat32(LlamaTensorNames.AttnNorm(0));
        var n1 = a.ReadFloat32(LlamaTensorNames.FfnNorm(1));
        foreach (var ch in outliers) Assert.InRange(n0[ch], 8f, 20f);
        Assert.All(n0.Where((_, i) => !outliers.Contains(i)), v => Assert.InRange(v, 0.85f, 1.15f));
        Assert.All(n1, v => Assert.InRange(v, 0.85f, 1.15f));
        Assert.All(a.ReadFloat32(LlamaTensorNames.FinalNorm), v => Assert.InRange(v, 0.85f, 1.15f));
    }

    [Fact]
    public void TinyLlama_preset_has_the_published_shapes_and_parameter_count()
    {
        var c = SyntheticModel.PresetConfig("tinyllama-1.1b");
        Assert.Equal((32000, 2048, 5632, 22, 32, 4, 64, 2048), (c.VocabSize, c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.EffectiveHeadDim, c.MaxPositionEmbeddings));
        Assert.Equal(1e-5f, c.RmsNormEps);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.False(c.TieWordEmbeddings);
        Assert.Equal(1_100_048_384L, LlamaWeightShapes.ParameterCount(c)); // TinyLlama-1.1B's count
        Assert.Equal(3, SyntheticModel.PresetConfig("tinyllama-1.1b", numLayers: 3).NumLayers);
        Assert.Throws<ArgumentException>(() => SyntheticModel.PresetConfig("gpt-5"));
    }
}
