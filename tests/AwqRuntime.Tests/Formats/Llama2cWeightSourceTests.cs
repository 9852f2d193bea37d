using System.Buffers.Binary;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.Llama2c;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Formats;

public class Llama2cWeightSourceTests
{
    [Fact]
    public void Stories260K_config_matches_the_published_model()
    {
        using var src = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        var c = src.Config;
        Assert.Equal((64, 172, 5, 8, 4, 512, 512), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.VocabSize, c.MaxPositionEmbeddings));
        Assert.Equal(8, c.EffectiveHeadDim);
        Assert.Equal(8, c.EffectiveRopeDim);
        Assert.Equal(1e-5f, c.RmsNormEps);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.True(c.TieWordEmbeddings);
        Assert.True(src.SharedClassifier);
        Assert.Equal(2 + 9 * 5 + 1, src.Tensors.Count);
        Assert.Equal(LlamaWeightShapes.Expected(c).Select(t => t.Name), src.Tensors.Select(t => t.Name));
        // 264,128 floats per SOURCE.md, minus the freq_cis arrays, plus the tied output counted once more.
        Assert.Equal(264_128 - 2 * 512 * 4 + 512 * 64, src.Tensors.Sum(t => t.ElementCount));
    }

    [Fact]
    public void Tensors_sit_at_the_documented_offsets()
    {
        var raw = File.ReadAllBytes(SharedData.Stories260KBin);
        float At(long floatIndex) => BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan((int)(28 + 4 * floatIndex)));
        using var src = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        const int dim = 64, hidden = 172, L = 5, vocab = 512, kv = 32;
        var emb = src.ReadFloat32(LlamaTensorNames.Embedding);
        Assert.Equal(At(0), emb[0]);
        Assert.Equal(At(vocab * dim - 1), emb[^1]);
        long off = vocab * dim + L * dim; // after token_embedding and rms_att
        var q2 = src.ReadFloat32(LlamaTensorNames.Linear(2, LinearKind.QProj));
        Assert.Equal(At(off + 2 * dim * dim + 7), q2[7]);
        off += L * dim * dim + 2 * L * kv * dim + L * dim * dim + L * dim; // wq, wk, wv, wo, rms_ffn
        var gate4 = src.ReadFloat32(LlamaTensorNames.Linear(4, LinearKind.GateProj)); // w1
        Assert.Equal(At(off + 4L * hidden * dim + 100), gate4[100]);
        var down0 = src.ReadFloat32(LlamaTensorNames.Linear(0, LinearKind.DownProj)); // w2
        Assert.Equal(At(off + L * hidden * dim + 5), down0[5]);
        var up0 = src.ReadFloat32(LlamaTensorNames.Linear(0, LinearKind.UpProj)); // w3
        Assert.Equal(At(off + 2L * L * hidden * dim), up0[0]);
        Assert.Equal(emb, src.ReadFloat32(LlamaTensorNames.Output));
    }

    [Fact]
    public void Bin_and_gguf_give_bit_identical_tensors_for_every_canonical_name()
    {
        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        using var gguf = GgufWeightSource.Open(SharedData.Stories260KGguf);
        Assert.Equal(bin.Tensors.Select(t => t.Name), gguf.Tensors.Select(t => t.Name));
        foreach (var t in bin.Tensors)
        {
            Assert.Equal(t.Shape, gguf.Info(t.Name).Shape);
            var a = bin.ReadFloat32(t.Name);
            var b = gguf.ReadFloat32(t.Name);
            Assert.True(a.AsSpan().SequenceEqual(b), $"{t.Name} differs");
        }
        var g = gguf.Config;
        var c = bin.Config;
        Assert.Equal((c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKvHeads, c.VocabSize, c.RmsNormEps, c.RopeTheta, c.EffectiveRopeDim),
            (g.HiddenSize, g.IntermediateSize, g.NumLayers, g.NumHeads, g.NumKvHeads, g.VocabSize, g.RmsNormEps, g.RopeTheta, g.EffectiveRopeDim));
        Assert.False(g.TieWordEmbeddings); // the GGUF stores output.weight as a separate copy
        Assert.Equal(2048, g.MaxPositionEmbeddings);
    }

    private static byte[] WithHeader(byte[] file, params (int Field, int Value)[] edits)
    {
        var b = (byte[])file.Clone();
        foreach (var (f, v) in edits) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * f), v);
        return b;
    }

    [Fact]
    public void Truncated_oversized_and_absurd_headers_fail_clearly()
    {
        var good = File.ReadAllBytes(SharedData.Stories260KBin);
        using var dir = new TempDir("l2c");
        var path = dir.File("bad.bin");
        void Expect(byte[] bytes, string problem)
        {
            File.WriteAllBytes(path, bytes);
            CorruptionAssert.FailsClearly(() => Llama2cWeightSource.Open(path).Dispose(), path, problem);
        }

        Expect(good[..^4], "implies 1056540 bytes but the file has 1056536");
        Expect(good[..1000], "implies");
        Expect(good[..27], "shorter than the 28-byte header");
        Expect([.. good, 0, 0, 0, 0], "but the file has 1056544");
        Expect(WithHeader(good, (2, 1_000_000_000)), "implies");          // huge n_layers: no overflow, no allocation
        Expect(WithHeader(good, (0, 1 << 30), (1, int.MaxValue), (6, int.MaxValue)), "implies");
        Expect(WithHeader(good, (0, -64)), "zero or negative");
        Expect(WithHeader(good, (3, 0)), "zero or negative");
        Expect(WithHeader(good, (5, 0)), "zero or negative");
        Expect(WithHeader(good, (5, int.MinValue)), "zero or negative");
        Expect(WithHeader(good, (3, 7)), "inconsistent");                 // 64 % 7 != 0
        Expect(WithHeader(good, (4, 3)), "inconsistent");                 // 8 % 3 != 0
        Expect(WithHeader(good, (5, -512)), "implies");                   // claims a classifier the file lacks
        Expect(WithHeader(good, (0, 0x616b3432)), "ak42");
        File.WriteAllBytes(path, []);
        Assert.Throws<InvalidDataException>(() => Llama2cWeightSource.Open(path).Dispose());
        Assert.Throws<FileNotFoundException>(() => Llama2cWeightSource.Open(dir.File("missing.bin")));
    }

    [Fact]
    public void Random_header_corruption_never_crashes()
    {
        var good = File.ReadAllBytes(SharedData.Stories260KBin);
        using var dir = new TempDir("l2c");
        var path = dir.File("flip.bin");
        var rng = new Random(5);
        for (var trial = 0; trial < 200; trial++)
        {
            var b = (byte[])good.Clone();
            b[rng.Next(28)] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, b);
            CorruptionAssert.OpensOrFailsClearly(() =>
            {
                using var s = Llama2cWeightSource.Open(path);
                foreach (var t in s.Tensors) Assert.Equal(t.ElementCount, s.ReadFloat32(t.Name).Length);
            }, path, $"trial {trial}");
        }
    }

    [Fact]
    public void Negative_vocab_reads_the_separate_classifier_at_the_end()
    {
        var good = File.ReadAllBytes(SharedData.Stories260KBin);
        var wcls = Enumerable.Range(0, 512 * 64).Select(i => (float)i / 1000).ToArray();
        var tail = new byte[wcls.Length * 4];
        Buffer.BlockCopy(wcls, 0, tail, 0, tail.Length);
        using var dir = new TempDir("l2c");
        var path = dir.File("unshared.bin");
        File.WriteAllBytes(path, [.. WithHeader(good, (5, -512)), .. tail]);
        using var src = Llama2cWeightSource.Open(path);
        Assert.False(src.Config.TieWordEmbeddings);
        Assert.Equal(512, src.Config.VocabSize);
        Assert.Equal(wcls, src.ReadFloat32(LlamaTensorNames.Output));
        using var orig = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        Assert.Equal(orig.ReadFloat32(LlamaTensorNames.Embedding), src.ReadFloat32(LlamaTensorNames.Embedding));
    }

    [Fact]
    public void Checkpoint_loader_detects_each_format()
    {
        Assert.Equal(CheckpointFormat.Llama2c, CheckpointLoader.Detect(SharedData.Stories260KBin));
        Assert.Equal(CheckpointFormat.Gguf, CheckpointLoader.Detect(SharedData.Stories260KGguf));
        using var s = CheckpointLoader.Open(SharedData.Stories260KGguf);
        Assert.IsType<GgufWeightSource>(s);
        Assert.Throws<FileNotFoundException>(() => CheckpointLoader.Open("/nonexistent/model.gguf"));
    }
}
