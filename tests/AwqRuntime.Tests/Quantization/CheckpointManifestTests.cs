using AwqRuntime.Synthetic;
using System.Text.Json;
using System.Text.Json.Nodes;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;
using AwqRuntime.Quantization;

namespace AwqRuntime.Tests.Quantization;

/// <summary>
/// Issue 4: a synthetic model with standard shapes (every dimension divisible by 128) quantized at
/// g128 gives a checkpoint whose tensor names, dtypes, shapes and config keys are exactly AutoAWQ's,
/// checked against a manifest written out by hand (autoawq-manifest-g128.json).
/// </summary>
public class CheckpointManifestTests
{
    internal static LlamaConfig StandardConfig() =>
        SyntheticModel.PresetConfig("tiny", vocabSize: 512) with
        {
            HiddenSize = 256, IntermediateSize = 512, NumHeads = 4, NumKvHeads = 2, NumLayers = 2, HeadDim = 0, RopeDim = 0,
            TieWordEmbeddings = false, Name = "standard-256",
        };

    [Fact]
    public void Standard_shapes_at_g128_match_the_autoawq_manifest_exactly()
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(SharedData.RepoRoot, "tests", "AwqRuntime.Tests", "Quantization", "autoawq-manifest-g128.json")))!;
        using var src = new SyntheticWeightSource(StandardConfig(), seed: 9);
        var result = AwqQuantizer.Quantize(src, ScaleFoldingTests.SmallCalibration(512, 2, 64), new AwqConfig { GroupSize = 128 });
        var dir = Path.Combine(Path.GetTempPath(), $"awq-manifest-{Guid.NewGuid():N}");
        try
        {
            AwqCheckpointWriter.Write(result, dir);
            using var st = SafetensorsFile.Open(Path.Combine(dir, "model.safetensors"));
            var actual = st.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => $"{t.Name} {t.DType} [{string.Join(",", t.Shape)}]").ToArray();
            var expected = manifest["tensors"]!.AsArray()
                .Select(t => $"{t!["name"]} {t["dtype"]} [{string.Join(",", t["shape"]!.AsArray().Select(d => (long)d!))}]").ToArray();
            Assert.Equal(expected, actual);

            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!.AsObject();
            Assert.True(JsonNode.DeepEquals(manifest["quantization_config"], config["quantization_config"]),
                $"quantization_config: {config["quantization_config"]!.ToJsonString()}");
            foreach (var (key, value) in manifest["config"]!.AsObject())
                Assert.True(JsonNode.DeepEquals(value, config[key]), $"config.json {key}: {config[key]?.ToJsonString()} expected {value?.ToJsonString()}");
            Assert.Equal("pt", st.Metadata["format"]);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
