using System.Runtime.InteropServices;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.Llama2c;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Formats;

public class GgufWriterTests
{
    [Fact]
    public void Metadata_types_tensor_bytes_and_offsets_round_trip_through_the_reader()
    {
        using var dir = new TempDir("gguf");
        var path = dir.File("t.gguf");
        var meta = new (string, GgufValue)[]
        {
            ("a.u8", new(GgufValueType.UInt8, (byte)200)),
            ("a.i8", new(GgufValueType.Int8, (sbyte)-5)),
            ("a.u16", new(GgufValueType.UInt16, (ushort)60000)),
            ("a.i16", new(GgufValueType.Int16, (short)-30000)),
            ("a.u32", GgufValue.Of(4000000000u)),
            ("a.i32", GgufValue.Of(-7)),
            ("a.f32", GgufValue.Of(1e-5f)),
            ("a.bool", GgufValue.Of(true)),
            ("a.str", GgufValue.Of("héllo ▁world")),
            ("a.u64", new(GgufValueType.UInt64, ulong.MaxValue)),
            ("a.i64", new(GgufValueType.Int64, long.MinValue)),
            ("a.f64", new(GgufValueType.Float64, Math.PI)),
            ("a.strs", GgufValue.Of(["<unk>", "", "▁a"])),
            ("a.floats", GgufValue.Of([0f, -1.5f])),
            ("a.ints", GgufValue.Of([1, 6, 3])),
            ("a.bools", new(GgufValueType.Array, new[] { true, false }, GgufValueType.Bool)),
            ("a.u64s", new(GgufValueType.Array, new ulong[] { 1, 2 }, GgufValueType.UInt64)),
        };
        var w = new GgufWriter();
        foreach (var (k, v) in meta) w.Add(k, v);
        var f32 = Enumerable.Range(0, 3 * 5).Select(i => i * 0.1f).ToArray(); // 60 bytes: needs padding
        var f16 = Enumerable.Range(0, 7).Select(i => i * 0.5f).ToArray();     // 14 bytes
        var q8 = Enumerable.Range(0, 2 * 64).Select(i => MathF.Sin(i)).ToArray();
        var q4Raw = Enumerable.Range(0, 18).Select(i => (byte)i).ToArray();
        w.AddTensor("w.f32", [3, 5], TensorDType.F32, () => f32);
        w.AddTensor("w.f16", [7], TensorDType.F16, () => f16);
        w.AddTensor("w.q8", [2, 64], TensorDType.Q8_0, () => q8);
        w.AddTensorBytes("w.q4", [32], TensorDType.Q4_0, () => q4Raw);
        w.Write(path);
        Assert.Single(Directory.GetFiles(dir.Path));

        using var g = GgufFile.Open(path);
        Assert.Equal(3u, g.Version);
        Assert.Equal(meta.Length, g.Metadata.Count);
        foreach (var (k, v) in meta)
        {
            var r = g.Metadata[k];
            Assert.Equal(v.Type, r.Type);
            if (v.Type == GgufValueType.Array)
            {
                Assert.Equal(v.ElementType, r.ElementType);
                Assert.Equal(((System.Collections.IEnumerable)v.Value).Cast<object>(), ((System.Collections.IEnumerable)r.Value).Cast<object>());
            }
            else Assert.Equal(v.Value, r.Value);
        }
        Assert.Equal(new long[] { 5, 3 }, g.GetTensor("w.f32").Dims); // innermost first
        Assert.Equal(new long[] { 3, 5 }, g.GetTensor("w.f32").Shape);
        Assert.Equal(f32, MemoryMarshal.Cast<byte, float>(g.TensorBytes(g.GetTensor("w.f32"))).ToArray());
        Assert.Equal(f16.Select(x => (Half)x), MemoryMarshal.Cast<byte, Half>(g.TensorBytes(g.GetTensor("w.f16"))).ToArray());
        var q8Bytes = new byte[4 * 34];
        TensorConversion.FromFloat32(TensorDType.Q8_0, q8, q8Bytes);
        Assert.Equal(q8Bytes, g.TensorBytes(g.GetTensor("w.q8")).ToArray());
        Assert.Equal(q4Raw, g.TensorBytes(g.GetTensor("w.q4")).ToArray());

        // Alignment rules: data section and every offset on 32 bytes, offsets = running padded total.
        Assert.Equal(0, g.DataOffset % 32);
        long expected = 0;
        foreach (var t in g.Tensors)
        {
            Assert.Equal(expected, t.Offset);
            expected += (t.ByteSize + 31) / 32 * 32;
        }
        Assert.Equal(g.DataOffset + expected, g.FileSize);
    }

    [Fact]
    public void General_alignment_is_honoured()
    {
        using var dir = new TempDir("gguf");
        var path = dir.File("a64.gguf");
        new GgufWriter()
            .Add("general.alignment", GgufValue.Of(64u))
            .AddTensor("a", [3], TensorDType.F32, () => [1f, 2f, 3f])
            .AddTensor("b", [5], TensorDType.F32, () => [1f, 2f, 3f, 4f, 5f])
            .Write(path);
        using var g = GgufFile.Open(path);
        Assert.Equal(64, g.Alignment);
        Assert.Equal(0, g.DataOffset % 64);
        Assert.Equal(64, g.GetTensor("b").Offset);
        Assert.Throws<ArgumentException>(() => new GgufWriter().Add("general.alignment", GgufValue.Of(48u)));
    }

    [Fact]
    public void Writer_rejects_mistyped_values_bad_names_and_block_misfits()
    {
        var w = new GgufWriter();
        Assert.Throws<ArgumentException>(() => w.Add("x", new GgufValue(GgufValueType.UInt32, 5)));            // int boxed as UInt32
        Assert.Throws<ArgumentException>(() => w.Add("y", new GgufValue(GgufValueType.Array, new[] { 1 }, GgufValueType.UInt32)));
        w.Add("z", GgufValue.Of(1u));
        Assert.Throws<ArgumentException>(() => w.Add("z", GgufValue.Of(2u)));
        Assert.Throws<ArgumentException>(() => w.AddTensor(new string('n', 64), [1], TensorDType.F32, () => [0f]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("q", [2, 48], TensorDType.Q8_0, () => new float[96]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("s", [1, 2, 3, 4, 5], TensorDType.F32, () => new float[120]));
        w.AddTensor("ok", [2], TensorDType.F32, () => new float[3]);
        using var dir = new TempDir("gguf");
        Assert.Throws<ArgumentException>(() => w.Write(dir.File("x.gguf")));
        Assert.Empty(Directory.GetFiles(dir.Path)); // the temp file is removed after a failed write
    }

    private static Dictionary<string, GgufValue> TokenizerMetadataOf(GgufFile g) =>
        g.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    [Fact]
    public void F32_export_of_stories260K_reproduces_llama_cpp_converter_output()
    {
        using var dir = new TempDir("gguf");
        var path = dir.File("s.gguf");
        using var reference = GgufFile.Open(SharedData.Stories260KGguf);
        using (var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin))
            GgufModelExporter.Export(bin, path, GgufExportType.F32, TokenizerMetadataOf(reference));

        using var g = GgufFile.Open(path);
        // Exact types llama.cpp's loader type-checks.
        foreach (var key in new[] { "llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
                     "llama.attention.head_count", "llama.attention.head_count_kv", "llama.rope.dimension_count", "general.file_type", "general.alignment" })
            Assert.Equal(GgufValueType.UInt32, g.Metadata[key].Type);
        Assert.Equal(GgufValueType.Float32, g.Metadata["llama.attention.layer_norm_rms_epsilon"].Type);
        Assert.Equal(GgufValueType.Float32, g.Metadata["llama.rope.freq_base"].Type);
        Assert.Equal("llama", g.GetString("general.architecture"));
        Assert.Equal(0, g.GetInteger("general.file_type"));
        // Keys both files have carry the same types and values (the reference came from llama.cpp's llama2c converter).
        foreach (var (key, value) in reference.Metadata)
        {
            if (!g.Metadata.TryGetValue(key, out var ours) || key is "general.name" or "llama.context_length") continue;
            Assert.Equal(value.Type, ours.Type);
            if (value.Type != GgufValueType.Array) Assert.Equal(value.Value, ours.Value);
            else Assert.Equal(((System.Collections.IEnumerable)value.Value).Cast<object>(), ((System.Collections.IEnumerable)ours.Value).Cast<object>());
        }
        Assert.Equal(512, g.GetInteger("llama.context_length")); // seq_len of the .bin (the converter used --n_ctx)
        // Same tensor set, every tensor byte-identical to llama.cpp's.
        Assert.Equal(reference.Tensors.Select(t => t.Name).Order(), g.Tensors.Select(t => t.Name).Order());
        foreach (var t in reference.Tensors)
        {
            var ours = g.GetTensor(t.Name);
            Assert.Equal(t.Dims, ours.Dims);
            Assert.Equal(t.Type, ours.Type);
            Assert.True(reference.TensorBytes(t).SequenceEqual(g.TensorBytes(ours)), t.Name);
        }
    }

    [Theory]
    [InlineData(GgufExportType.F16)]
    [InlineData(GgufExportType.Q8_0)]
    public void Reduced_precision_exports_load_back_within_their_rounding(GgufExportType type)
    {
        using var dir = new TempDir("gguf");
        var path = dir.File("s.gguf");
        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        GgufModelExporter.Export(bin, path, type, new Dictionary<string, GgufValue>());
        using var src = GgufWeightSource.Open(path);
        Assert.Equal(GgufModelExporter.FileType(type), (uint)src.File.GetInteger("general.file_type"));
        foreach (var t in bin.Tensors)
        {
            var a = bin.ReadFloat32(t.Name);
            var b = src.ReadFloat32(t.Name);
            var stored = src.Info(t.Name).DType;
            if (t.Shape.Length == 1)
            {
                Assert.Equal(TensorDType.F32, stored); // norms stay F32
                Assert.Equal(a, b);
                continue;
            }
            var rowLen = (int)t.Shape[1];
            if (type == GgufExportType.F16 || rowLen % 32 != 0)
            {
                Assert.Equal(TensorDType.F16, stored); // 172-wide rows cannot be Q8_0 blocks
                for (var i = 0; i < a.Length; i++) Assert.Equal((float)(Half)a[i], b[i]);
                for (var i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= Math.Max(Math.Abs(a[i]) * (1.0 / 2048), 3e-8), t.Name);
            }
            else
            {
                Assert.Equal(TensorDType.Q8_0, stored);
                for (var blk = 0; blk < a.Length / 32; blk++)
                {
                    var amax = a.Skip(blk * 32).Take(32).Max(MathF.Abs);
                    for (var j = blk * 32; j < blk * 32 + 32; j++)
                        Assert.True(Math.Abs(a[j] - b[j]) <= amax / 127 * (0.5 + 127.0 / 2048) + 1e-9, $"{t.Name}[{j}]");
                }
            }
        }
    }

    [Fact]
    public void Exporter_rejects_a_tokenizer_of_the_wrong_size_and_colliding_keys()
    {
        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        using var dir = new TempDir("gguf");
        Assert.Throws<ArgumentException>(() => GgufModelExporter.Export(bin, dir.File("x.gguf"), GgufExportType.F32,
            new Dictionary<string, GgufValue> { ["tokenizer.ggml.tokens"] = GgufValue.Of(new[] { "a", "b" }) }));
        Assert.Throws<ArgumentException>(() => GgufModelExporter.Export(bin, dir.File("x.gguf"), GgufExportType.F32,
            new Dictionary<string, GgufValue> { ["llama.block_count"] = GgufValue.Of(5u) }));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
