using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;
using AwqRuntime.Numerics;
using AwqRuntime.Quantization;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Formats;

/// <summary>
/// stories260K rounded (RTN, g32) to 2, 3 and 8 bits, saved as compressed-tensors pack-quantized (num_bits 2, 3, 8;
/// the ceil-groups extension for down_proj's 172 inputs), loaded onto <see cref="NBitLinear"/>: the same logits as
/// the in-memory model, the same bytes when saved again, and one-line errors for bad checkpoints.
/// </summary>
public sealed class NBitCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new("nbit");

    public void Dispose() => _dir.Dispose();

    private static readonly Dictionary<int, Lazy<QuantizationResult>> Quantized = new[] { 2, 3, 8 }.ToDictionary(b => b, b => new Lazy<QuantizationResult>(() =>
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        return AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 32, WBit = b }.Validate());
    }));

    private static readonly int[] Tokens = [1, 50, 200, 7, 300, 42, 99, 511, 3, 17];

    private static float[] Logits(LlamaModel m)
    {
        var y = new float[Tokens.Length * m.Config.VocabSize];
        m.Forward(Tokens, m.CreateCache(Tokens.Length), m.CreateBuffers(Tokens.Length), y, LogitsMode.All);
        return y;
    }

    private string Save(QuantizationResult r, string name)
    {
        var dir = _dir.File(name);
        var spec = TokenizerFiles.Read(SharedData.Tok512, 512);
        AwqCheckpointWriter.Write(r, dir, d => HfTokenizerWriter.Write(spec, d));
        return dir;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Saves_loads_with_identical_logits_and_saves_again_byte_for_byte(int bits)
    {
        var r = Quantized[bits].Value;
        Assert.All(r.Model.Blocks, b => Assert.IsType<NBitLinear>(b.Down));
        var dir = Save(r, $"w{bits}");
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))))
        {
            var q = doc.RootElement.GetProperty("quantization_config");
            Assert.Equal("compressed-tensors", q.GetProperty("quant_method").GetString());
            Assert.Equal("pack-quantized", q.GetProperty("format").GetString());
            Assert.Equal(AwqQuantizationConfig.CeilGroupsExtension, q.GetProperty("layout_extension").GetString());
            var w = q.GetProperty("config_groups").GetProperty("group_0").GetProperty("weights");
            Assert.Equal(bits, w.GetProperty("num_bits").GetInt32());
            Assert.Equal(32, w.GetProperty("group_size").GetInt32());
            Assert.False(w.GetProperty("symmetric").GetBoolean());
        }
        using (var st = SafetensorsCheckpoint.OpenFolder(dir))
        {
            // down_proj: [64, 172] → 172 / (32 / bits) words per row, 6 groups (the last of 12), zero points packed along the output
            var pf = 32 / bits;
            var down = "model.layers.0.mlp.down_proj";
            Assert.Equal([64L, (172 + pf - 1) / pf], st.Get($"{down}.weight_packed").Shape);
            Assert.Equal([64L, 6], st.Get($"{down}.weight_scale").Shape);
            Assert.Equal([(64L + pf - 1) / pf, 6], st.Get($"{down}.weight_zero_point").Shape);
            Assert.Equal([64L, 172], st.Read<long>($"{down}.weight_shape"));
        }

        using var loaded = AwqModel.FromQuantized(dir);
        Assert.Equal(bits, loaded.PackQuantized!.Bits);
        Assert.All(loaded.Model.Blocks, b => Assert.All(LinearKinds.All, k => Assert.Equal(bits, Assert.IsType<NBitLinear>(b[k]).Bits)));
        Assert.Equal(Logits(r.Model), Logits(loaded.Model));

        var again = Save(new QuantizationResult
        {
            Model = loaded.Model, Config = r.Config, Calibration = r.Calibration, Blocks = r.Blocks, ActivationStats = r.ActivationStats, Elapsed = r.Elapsed,
        }, $"w{bits}-again");
        foreach (var f in Directory.GetFiles(dir).Select(Path.GetFileName))
            Assert.True(File.ReadAllBytes(Path.Combine(dir, f!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, f!))), $"{f} differs when saved again");
        Assert.Equal(Directory.GetFiles(dir).Length, Directory.GetFiles(again).Length);
    }

    [Fact]
    public void The_codes_are_compressed_tensors_pack_to_int32()
    {
        // Checked against the definition: code i of word w is bits 3i..3i+2, column 10w + i; the top two bits stay 0.
        var r = Quantized[3].Value;
        var dir = Save(r, "w3-codes");
        using var st = SafetensorsCheckpoint.OpenFolder(dir);
        var packed = st.Read<int>("model.layers.0.mlp.down_proj.weight_packed");
        var want = ((NBitLinear)r.Model.Blocks[0].Down).ToWeights(); // down_proj has no q/k row permutation
        const int words = 18;
        for (var n = 0; n < 64; n++)
            for (var k = 0; k < 172; k++)
                Assert.Equal(want.Q[n * 172 + k], (int)((uint)packed[n * words + k / 10] >> (3 * (k % 10))) & 7);
        Assert.All(packed, w => Assert.Equal(0u, (uint)w >> 30));
        var zp = st.Read<int>("model.layers.0.mlp.down_proj.weight_zero_point");
        for (var n = 0; n < 64; n++)
            for (var g = 0; g < 6; g++)
                Assert.Equal(want.Zeros[n * 6 + g], (int)((uint)zp[(n / 10) * 6 + g] >> (3 * (n % 10))) & 7);
    }

    private string Corruptible(int bits, string name)
    {
        var dir = Save(Quantized[bits].Value, name);
        return dir;
    }

    [Theory]
    [InlineData("\"num_bits\": 3", "\"num_bits\": 5", "weights.num_bits must be 2, 3, 4 or 8")]
    [InlineData("\"num_bits\": 3", "\"num_bits\": 2", "weight_packed")]
    [InlineData("\"num_bits\": 3", "\"num_bits\": 8", "weight_packed")]
    [InlineData("\"layout_extension\": \"awqruntime.ceil_groups.v1\"", "\"layout_extension\": \"something\"", "quantization_config.layout_extension")]
    public void Bad_configs_are_refused_in_one_line_naming_the_field_or_tensor(string from, string to, string expected)
    {
        var dir = Corruptible(3, "bad-config");
        var config = Path.Combine(dir, "config.json");
        var text = File.ReadAllText(config);
        Assert.Contains(from, text);
        File.WriteAllText(config, text.Replace(from, to));
        var e = Assert.Throws<InvalidDataException>(() => AwqModel.FromQuantized(dir).Dispose());
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Set_padding_bits_are_refused_naming_the_tensor_and_row()
    {
        var dir = Corruptible(3, "bad-padding");
        var st = Directory.GetFiles(dir, "*.safetensors").Single();
        long offset;
        using (var f = SafetensorsFile.Open(st))
        {
            var info = f.Tensors.Single(t => t.Name == "model.layers.0.mlp.down_proj.weight_packed");
            offset = f.DataOffset + info.Begin + 4 * 17; // row 0, its last word: columns 170, 171 and eight padding codes
        }
        var bytes = File.ReadAllBytes(st);
        bytes[offset + 3] |= 0x40; // bit 30, above the ten 3-bit codes
        File.WriteAllBytes(st, bytes);
        var e = Assert.Throws<InvalidDataException>(() => AwqModel.FromQuantized(dir).Dispose());
        Assert.Contains("model.layers.0.mlp.down_proj.weight_packed", e.Message);
        Assert.Contains("row 0", e.Message);
    }
}
