using AwqRuntime.Synthetic;
using System.Text.Json.Nodes;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Model;
using AwqRuntime.Quantization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>A damaged or inconsistent AWQ checkpoint is one clear error naming the file and the problem.</summary>
public class AwqCheckpointCorruptionTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"awq-bad-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private void Save(LlamaConfig config, int group)
    {
        using var src = new SyntheticWeightSource(config, seed: 2);
        var r = AwqQuantizer.Quantize(src, ScaleFoldingTests.SmallCalibration(config.VocabSize, 1, 32), new AwqConfig { GroupSize = group, Method = QuantMethod.Rtn });
        AwqCheckpointWriter.Write(r, _dir);
    }

    private void EditConfig(Action<JsonObject> edit)
    {
        var path = Path.Combine(_dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json["quantization_config"]!.AsObject());
        File.WriteAllText(path, json.ToJsonString());
    }

    [Fact]
    public void Group_size_that_contradicts_the_tensors_is_named()
    {
        Save(CheckpointManifestTests.StandardConfig(), 128);
        EditConfig(q => q["group_size"] = 64);
        var ex = Assert.Throws<InvalidDataException>(() => AwqCheckpointReader.Load(_dir));
        Assert.Contains("qzeros", ex.Message);
        Assert.Contains(_dir, ex.Message);
    }

    [Fact]
    public void Shapes_beyond_autoawq_need_the_declared_extension()
    {
        Save(SyntheticModel.PresetConfig("tiny", vocabSize: 512), 128); // intermediate 352: 352 % 128 != 0
        var loaded = AwqCheckpointReader.Load(_dir);
        Assert.NotNull(loaded.Quantization.LayoutExtension);
        EditConfig(q => q.Remove("layout_extension"));
        var ex = Assert.Throws<InvalidDataException>(() => AwqCheckpointReader.Load(_dir));
        Assert.Contains("layout_extension", ex.Message);
        EditConfig(q => q["layout_extension"] = "something.else");
        Assert.Contains("layout_extension", Assert.Throws<InvalidDataException>(() => AwqCheckpointReader.Load(_dir)).Message);
    }

    [Fact]
    public void Unsupported_bits_and_truncated_weights_are_clear_errors()
    {
        Save(CheckpointManifestTests.StandardConfig(), 128);
        EditConfig(q => q["bits"] = 3);
        Assert.Contains("bits", Assert.Throws<InvalidDataException>(() => AwqCheckpointReader.Load(_dir)).Message);
        EditConfig(q => q["bits"] = 4);
        var st = Path.Combine(_dir, "model.safetensors");
        var bytes = File.ReadAllBytes(st);
        File.WriteAllBytes(st, bytes.AsSpan(0, bytes.Length - 1000).ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => AwqCheckpointReader.Load(_dir));
        Assert.Contains("model.safetensors", ex.Message);
    }
}
