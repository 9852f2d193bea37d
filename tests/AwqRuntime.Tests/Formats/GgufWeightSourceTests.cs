using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Formats;

public class GgufWeightSourceTests
{
    /// <summary>Re-writes stories260K.gguf with edited metadata / tensors, tensor bytes copied verbatim.</summary>
    private static string Rewrite(TempDir dir, Func<string, GgufValue, GgufValue?> editMeta, Func<GgufTensorInfo, bool>? keep = null,
        Action<GgufWriter>? extra = null, Func<GgufTensorInfo, (long[] Shape, TensorDType Type, byte[] Bytes)?>? replace = null)
    {
        var path = dir.File($"edit-{Guid.NewGuid():N}.gguf");
        using var g = GgufFile.Open(SharedData.Stories260KGguf);
        var w = new GgufWriter();
        foreach (var (k, v) in g.Metadata)
            if (editMeta(k, v) is { } nv) w.Add(k, nv);
        foreach (var t in g.Tensors)
        {
            if (keep != null && !keep(t)) continue;
            if (replace?.Invoke(t) is { } r) w.AddTensorBytes(t.Name, r.Shape, r.Type, () => r.Bytes);
            else
            {
                var bytes = g.TensorBytes(t).ToArray();
                w.AddTensorBytes(t.Name, t.Shape, t.Type, () => bytes);
            }
        }
        extra?.Invoke(w);
        w.Write(path);
        return path;
    }

    [Fact]
    public void Reads_stories260K_config_and_maps_every_name()
    {
        using var src = GgufWeightSource.Open(SharedData.Stories260KGguf);
        Assert.Equal(48, src.Tensors.Count); // 48 stored tensors, all canonical
        Assert.All(src.Tensors, t => Assert.Equal(TensorDType.F32, t.DType));
        Assert.Equal(new long[] { 172, 64 }, src.Info(LlamaTensorNames.Linear(3, LinearKind.GateProj)).Shape);
        Assert.Equal(new long[] { 64, 172 }, src.Info(LlamaTensorNames.Linear(3, LinearKind.DownProj)).Shape);
        Assert.Equal(1, src.Config.BosTokenId);
        Assert.Equal(2, src.Config.EosTokenId);
        foreach (var t in src.File.Tensors) Assert.Equal(t.Name, GgufTensorNames.ToGguf(GgufTensorNames.ToCanonical(t.Name)!));
    }

    [Fact]
    public void Missing_output_means_tied_embeddings()
    {
        using var dir = new TempDir("ggufw");
        var path = Rewrite(dir, (_, v) => v, keep: t => t.Name != "output.weight");
        using var src = GgufWeightSource.Open(path);
        Assert.True(src.Config.TieWordEmbeddings);
        Assert.Equal(src.ReadFloat32(LlamaTensorNames.Embedding), src.ReadFloat32(LlamaTensorNames.Output));
    }

    [Fact]
    public void Wrong_architecture_missing_tensor_and_contradicting_shapes_fail_clearly()
    {
        using var dir = new TempDir("ggufw");
        void Expect(string path, string problem) => CorruptionAssert.FailsClearly(() => GgufWeightSource.Open(path).Dispose(), path, problem);

        Expect(Rewrite(dir, (k, v) => k == "general.architecture" ? GgufValue.Of("gpt2") : v), "general.architecture is 'gpt2'");
        Expect(Rewrite(dir, (k, v) => k == "general.architecture" ? null : v), "general.architecture");
        Expect(Rewrite(dir, (_, v) => v, keep: t => t.Name != "blk.3.ffn_up.weight"), "'blk.3.ffn_up.weight' (model.layers.3.mlp.up_proj.weight) is missing");
        Expect(Rewrite(dir, (k, v) => k == "llama.feed_forward_length" ? GgufValue.Of(176u) : v), "'blk.0.ffn_gate.weight' has shape [172, 64], but the llama.* metadata implies [176, 64]");
        Expect(Rewrite(dir, (k, v) => k == "llama.block_count" ? GgufValue.Of(6u) : v), "'blk.5.attn_norm.weight'");
        Expect(Rewrite(dir, (k, v) => k == "llama.block_count" ? GgufValue.Of(1_000_000u) : v), "block_count");
        Expect(Rewrite(dir, (k, v) => k == "llama.attention.head_count_kv" ? GgufValue.Of(3u) : v), "not a multiple");
        Expect(Rewrite(dir, (k, v) => k == "llama.attention.layer_norm_rms_epsilon" ? null : v), "layer_norm_rms_epsilon");
        Expect(Rewrite(dir, (k, v) => k == "tokenizer.ggml.tokens" ? GgufValue.Of(new[] { "a" }) : v), "tokenizer.ggml.tokens has 1 tokens");
        Expect(Rewrite(dir, (_, v) => v, extra: w => w.Add("llama.rope.scaling.type", GgufValue.Of("yarn"))), "yarn");
        Expect(Rewrite(dir, (_, v) => v, replace: t => t.Name == "blk.0.attn_q.weight" ? ([64, 64], TensorDType.IQ4_NL, new byte[64 * 2 * 18]) : null),
            "unsupported tensor type IQ4_NL in tensor 'blk.0.attn_q.weight'");
        Expect(Rewrite(dir, (_, v) => v, replace: t => t.Name == "blk.0.attn_k.weight" ? ([64, 32], TensorDType.F32, new byte[64 * 32 * 4]) : null),
            "'blk.0.attn_k.weight' has shape [64, 32]");
    }

    [Fact]
    public void Q8_0_tensors_are_dequantized()
    {
        using var dir = new TempDir("ggufw");
        using var g = GgufFile.Open(SharedData.Stories260KGguf);
        var q = g.GetTensor("blk.1.attn_q.weight");
        var values = new float[q.ElementCount];
        TensorConversion.ToFloat32(TensorDType.F32, g.TensorBytes(q), values);
        var q8 = new byte[values.Length / 32 * 34];
        TensorConversion.FromFloat32(TensorDType.Q8_0, values, q8);
        var path = Rewrite(dir, (_, v) => v, replace: t => t.Name == q.Name ? (t.Shape, TensorDType.Q8_0, q8) : null);
        using var src = GgufWeightSource.Open(path);
        Assert.Equal(TensorDType.Q8_0, src.Info(LlamaTensorNames.Linear(1, LinearKind.QProj)).DType);
        var got = src.ReadFloat32(LlamaTensorNames.Linear(1, LinearKind.QProj));
        for (var i = 0; i < values.Length; i++)
        {
            var blk = i / 32;
            var d = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(q8, blk * 34));
            Assert.Equal(d * (sbyte)q8[blk * 34 + 2 + i % 32], got[i]);
        }
    }

    [Fact]
    public void Bit_flips_anywhere_before_the_data_never_crash()
    {
        var original = File.ReadAllBytes(SharedData.Stories260KGguf);
        using var good = GgufFile.Open(SharedData.Stories260KGguf);
        using var dir = new TempDir("ggufw");
        var path = dir.File("flip.gguf");
        var rng = new Random(99);
        for (var trial = 0; trial < 150; trial++)
        {
            var b = (byte[])original.Clone();
            b[rng.Next((int)good.DataOffset)] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, b);
            CorruptionAssert.OpensOrFailsClearly(() =>
            {
                using var s = GgufWeightSource.Open(path);
                foreach (var t in s.Tensors) Assert.Equal(t.ElementCount, s.ReadFloat32(t.Name).Length);
            }, path, $"trial {trial}");
        }
    }
}
