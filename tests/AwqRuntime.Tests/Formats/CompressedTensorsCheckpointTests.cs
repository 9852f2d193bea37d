using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Formats;

/// <summary>
/// INT4 checkpoints in compressed-tensors' pack-quantized format, checked field by field against the
/// format's definition (vllm-project/compressed-tensors pack_quantized.py: pack_to_int32 / unpack_from_int32,
/// the zero points packed along the output dimension, x = (q − zp)·scale in the signed range), and
/// against the AutoAWQ checkpoint of the same quantization run: same weights, same logits.
/// </summary>
public sealed class CompressedTensorsCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new("ct");

    public void Dispose() => _dir.Dispose();

    private static readonly Lazy<QuantizationResult> Quantized = new(() =>
    {
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("llama3", vocabSize: 512), seed: 3);
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        var calib = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tok.Encode(t, addBos: true), 8, 128, "calib");
        return AwqQuantizer.Quantize(src, calib, new AwqConfig { GroupSize = 128 });
    });

    private string Save(Int4CheckpointFormat format)
    {
        var dir = _dir.File(format.ToString());
        var spec = TokenizerFiles.Read(SharedData.Tok512, 512);
        AwqCheckpointWriter.Write(Quantized.Value, dir, d => HfTokenizerWriter.Write(spec, d), format: format);
        return dir;
    }

    /// <summary>The spec's unpack_from_int32 along dim 1 (or 0): entry i of a word is (v >> 4i) &amp; 0xF, minus the offset 8.</summary>
    private static int[,] Unpack(int[] packed, int rows, int words, int outRows, int outCols, bool alongRows)
    {
        var r = new int[outRows, outCols];
        for (var a = 0; a < rows; a++)
            for (var b = 0; b < words; b++)
                for (var i = 0; i < 8; i++)
                {
                    var v = (int)(((uint)packed[a * words + b] >> (4 * i)) & 0xF) - 8;
                    var (row, col) = alongRows ? (a * 8 + i, b) : (a, b * 8 + i);
                    if (row < outRows && col < outCols) r[row, col] = v;
                }
        return r;
    }

    [Fact]
    public void Pack_quantized_checkpoint_matches_the_format_field_by_field()
    {
        var dir = Save(Int4CheckpointFormat.CompressedTensors);
        using (var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "config.json"))))
        {
            var q = doc.RootElement.GetProperty("quantization_config");
            Assert.Equal("compressed-tensors", q.GetProperty("quant_method").GetString());
            Assert.Equal("pack-quantized", q.GetProperty("format").GetString());
            Assert.Equal("compressed", q.GetProperty("quantization_status").GetString());
            Assert.Equal(["lm_head"], q.GetProperty("ignore").EnumerateArray().Select(e => e.GetString()));
            var g = q.GetProperty("config_groups").GetProperty("group_0");
            Assert.Equal(["Linear"], g.GetProperty("targets").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(JsonValueKind.Null, g.GetProperty("input_activations").ValueKind);
            var w = g.GetProperty("weights");
            Assert.Equal(4, w.GetProperty("num_bits").GetInt32());
            Assert.Equal("int", w.GetProperty("type").GetString());
            Assert.False(w.GetProperty("symmetric").GetBoolean());
            Assert.Equal("group", w.GetProperty("strategy").GetString());
            Assert.Equal(128, w.GetProperty("group_size").GetInt32());
            Assert.False(w.GetProperty("dynamic").GetBoolean());
        }

        var model = Quantized.Value.Model;
        var c = model.Config;
        using var st = SafetensorsCheckpoint.OpenFolder(dir);
        foreach (var kind in LinearKinds.All)
            for (var l = 0; l < c.NumLayers; l++)
            {
                var module = LlamaTensorNames.LinearModule(l, kind);
                var lin = (Int4Linear)model.Blocks[l][kind];
                int n = lin.OutFeatures, k = lin.InFeatures, groups = k / 128;
                Assert.False(st.Contains(module + ".weight"));
                void Shape(string part, TensorDType t, params long[] shape)
                {
                    var info = st.Get($"{module}.{part}");
                    Assert.Equal(t, info.DType);
                    Assert.Equal(shape, info.Shape);
                }
                Shape("weight_packed", TensorDType.I32, n, k / 8);
                Shape("weight_scale", TensorDType.F16, n, groups);
                Shape("weight_zero_point", TensorDType.I32, (n + 7) / 8, groups);
                Shape("weight_shape", TensorDType.I64, 2);
                Assert.Equal([n, k], st.Read<long>(module + ".weight_shape"));

                var qs = Unpack(st.Read<int>(module + ".weight_packed"), n, k / 8, n, k, alongRows: false);
                var zp = Unpack(st.Read<int>(module + ".weight_zero_point"), (n + 7) / 8, groups, n, groups, alongRows: true);
                var scale = st.Read<ushort>(module + ".weight_scale");
                // Our weights in HF row order (q/k are stored rotate_half-ordered, as every HF checkpoint).
                var ours = lin.ToWeights().Dequantize();
                var heads = kind.RotaryHeads(c);
                if (heads > 0) ours = RopePermutation.InterleavedToHf(ours, heads, c.EffectiveHeadDim, k);
                for (var r = 0; r < n; r++)
                    for (var col = 0; col < k; col++)
                    {
                        var s = (float)BitConverter.UInt16BitsToHalf(scale[r * groups + col / 128]);
                        Assert.InRange(qs[r, col], -8, 7);
                        var x = (qs[r, col] - zp[r, col / 128]) * s;
                        if (x != ours[r * k + col]) Assert.Fail($"{module}[{r},{col}]: compressed-tensors gives {x}, the model holds {ours[r * k + col]}");
                    }
            }
    }

    [Fact]
    public void Both_layouts_of_one_run_reload_with_identical_logits()
    {
        using var awq = AwqModel.FromQuantized(Save(Int4CheckpointFormat.AutoAwq));
        using var ct = AwqModel.FromQuantized(Save(Int4CheckpointFormat.CompressedTensors));
        Assert.NotNull(ct.PackQuantized);
        Assert.Equal(128, ct.PackQuantized!.GroupSize);
        Assert.True(ct.IsInt4);
        int[] tokens = [1, 50, 200, 7, 300, 42, 99, 511];
        float[] Logits(LlamaModel m)
        {
            var y = new float[tokens.Length * m.Config.VocabSize];
            m.Forward(tokens, m.CreateCache(tokens.Length), m.CreateBuffers(tokens.Length), y, LogitsMode.All);
            return y;
        }
        Assert.Equal(Logits(awq.Model), Logits(ct.Model));
    }

    [Fact]
    public void A_scheme_other_than_asymmetric_int4_groups_is_refused_naming_the_field()
    {
        var dir = Save(Int4CheckpointFormat.CompressedTensors);
        var config = Path.Combine(dir, "config.json");
        var text = File.ReadAllText(config);
        File.WriteAllText(config, text.Replace("\"symmetric\": false", "\"symmetric\": true"));
        var e = Assert.Throws<InvalidDataException>(() => AwqModel.FromQuantized(dir).Dispose());
        Assert.Contains("quantization_config.config_groups.group_0.weights.symmetric", e.Message);
        File.WriteAllText(config, text.Replace("\"group_size\": 128", "\"group_size\": 64"));
        e = Assert.Throws<InvalidDataException>(() => AwqModel.FromQuantized(dir).Dispose());
        Assert.Contains("weight_scale", e.Message);
        Assert.Contains("expected", e.Message);
    }
}
