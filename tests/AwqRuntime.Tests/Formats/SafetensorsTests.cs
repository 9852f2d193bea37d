using System.Buffers.Binary;
using System.Text;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Safetensors;

namespace AwqRuntime.Tests.Formats;

public class SafetensorsTests
{
    private static float[] Ramp(int n, float scale = 0.37f) => Enumerable.Range(0, n).Select(i => (i - n / 2) * scale).ToArray();

    private static string WriteSample(TempDir dir, string name = "a.safetensors")
    {
        var path = dir.File(name);
        using var w = new SafetensorsWriter(path,
        [
            new("w32", TensorDType.F32, [3, 5]),
            new("w16", TensorDType.F16, [4, 2]),
            new("wbf", TensorDType.BF16, [7]),
            new("ints", TensorDType.I32, [2, 3]),
            new("empty", TensorDType.F32, [0, 4]),
        ], new Dictionary<string, string> { ["format"] = "pt" });
        w.Write("w32", Ramp(15));
        w.Write("w16", Ramp(8, 0.25f));
        w.Write("wbf", Ramp(7, 1.5f));
        w.Write<int>("ints", new[] { 1, -2, 3, int.MaxValue, int.MinValue, 0 });
        w.Write("empty", ReadOnlySpan<float>.Empty);
        w.Commit();
        return path;
    }

    [Fact]
    public void Writer_and_reader_round_trip_every_dtype_with_metadata_and_aligned_header()
    {
        using var dir = new TempDir();
        var path = WriteSample(dir);
        Assert.Single(Directory.GetFiles(dir.Path)); // temp file renamed away

        var bytes = File.ReadAllBytes(path);
        var headerLen = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, (8 + headerLen) % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLen);
        Assert.StartsWith("{\"__metadata__\":{\"format\":\"pt\"}", header);
        Assert.EndsWith("}", header.TrimEnd(' '));

        using var f = SafetensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal(["w32", "w16", "wbf", "ints", "empty"], f.Tensors.Select(t => t.Name));
        Assert.Equal(Ramp(15), f.ReadFloat32("w32"));
        Assert.Equal(Ramp(8, 0.25f), f.ReadFloat32("w16")); // exactly representable in fp16
        Assert.Equal(Ramp(7, 1.5f), f.ReadFloat32("wbf")); // exactly representable in bf16
        Assert.Equal([1, -2, 3, int.MaxValue, int.MinValue, 0], f.Read<int>("ints"));
        Assert.Equal(new long[] { 2, 3 }, f.Get("ints").Shape);
        Assert.Equal(TensorDType.BF16, f.Get("wbf").DType);
        Assert.Empty(f.ReadFloat32("empty"));
        Assert.Equal(8 + headerLen + 15 * 4 + 8 * 2 + 7 * 2 + 6 * 4, f.FileSize);
        Assert.Throws<InvalidDataException>(() => f.Read<short>("ints"));
        Assert.Throws<InvalidDataException>(() => f.ReadFloat32("ints"));
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => f.Get("nope")).Message);
    }

    [Fact]
    public void Writer_rejects_wrong_order_wrong_size_and_unfinished_files_and_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        var path = dir.File("x.safetensors");
        using (var w = new SafetensorsWriter(path, [new("a", TensorDType.F32, [2]), new("b", TensorDType.F16, [3])]))
        {
            Assert.Throws<InvalidOperationException>(() => w.Write("b", new float[3]));
            Assert.Throws<ArgumentException>(() => w.Write("a", new float[3]));
            w.Write("a", new float[2]);
            Assert.Throws<ArgumentException>(() => w.WriteBytes("b", new byte[5]));
            Assert.Throws<InvalidOperationException>(() => w.Commit());
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
        Assert.Throws<ArgumentException>(() => new SafetensorsWriter(path, [new("a", TensorDType.F32, [1]), new("a", TensorDType.F32, [1])]));
        Assert.Throws<ArgumentException>(() => new SafetensorsWriter(path, [new("q", TensorDType.Q4_0, [32])]));
    }

    [Fact]
    public void Sharded_writer_splits_at_the_limit_and_the_index_round_trips()
    {
        using var dir = new TempDir();
        var specs = Enumerable.Range(0, 7).Select(i => new SafetensorsTensorSpec($"t{i}", TensorDType.F32, [10 + i])).ToList();
        // Limit 100 bytes, greedy: t0(40)+t1(44) | t2(48)+t3(52)=100 | t4(56) | t5(60) | t6(64)
        using (var w = new ShardedSafetensorsWriter(dir.Path, specs, maxShardBytes: 100))
        {
            Assert.Equal(5, w.ShardFiles.Count);
            Assert.Equal("model-00001-of-00005.safetensors", w.ShardFiles[0]);
            foreach (var s in specs) w.Write(s.Name, Ramp((int)s.ElementCount, s.ElementCount));
            w.Commit();
        }
        var index = SafetensorsIndex.Read(dir.File(SafetensorsIndex.FileName));
        Assert.Equal(specs.Sum(s => s.ByteSize), index.TotalSize);
        Assert.Equal("model-00001-of-00005.safetensors", index.WeightMap["t1"]);
        Assert.Equal("model-00002-of-00005.safetensors", index.WeightMap["t3"]);
        Assert.Equal("model-00005-of-00005.safetensors", index.WeightMap["t6"]);
        using var cp = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal(7, cp.Tensors.Count);
        foreach (var s in specs) Assert.Equal(Ramp((int)s.ElementCount, s.ElementCount), cp.ReadFloat32(s.Name));
        Assert.EndsWith("model-00003-of-00005.safetensors", cp.FileOf("t4").Path);
    }

    [Fact]
    public void A_single_shard_is_model_safetensors_without_an_index()
    {
        using var dir = new TempDir();
        using (var w = new ShardedSafetensorsWriter(dir.Path, [new("a", TensorDType.F16, [4])]))
        {
            w.Write("a", [1f, 2f, 3f, 4f]);
            w.Commit();
        }
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        using var cp = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal([1f, 2f, 3f, 4f], cp.ReadFloat32("a"));
    }

    [Fact]
    public void Every_truncation_and_extension_fails_with_a_clear_error()
    {
        using var dir = new TempDir();
        var good = File.ReadAllBytes(WriteSample(dir));
        var path = dir.File("cut.safetensors");
        for (var cut = 1; cut < good.Length; cut += cut < 40 ? 1 : 7)
        {
            File.WriteAllBytes(path, good[..cut]);
            CorruptionAssert.FailsClearly(() => SafetensorsFile.Open(path).Dispose(), path, "");
        }
        File.WriteAllBytes(path, [.. good, 0, 0, 0, 0]);
        CorruptionAssert.FailsClearly(() => SafetensorsFile.Open(path).Dispose(), path, "tensors cover");
        File.WriteAllBytes(path, []);
        Assert.Throws<InvalidDataException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(dir.File("absent.safetensors")));
    }

    [Fact]
    public void Random_bit_flips_in_the_header_never_crash()
    {
        using var dir = new TempDir();
        var good = File.ReadAllBytes(WriteSample(dir));
        var headerEnd = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(good);
        var path = dir.File("flip.safetensors");
        var rng = new Random(42);
        for (var trial = 0; trial < 400; trial++)
        {
            var bytes = (byte[])good.Clone();
            bytes[rng.Next(headerEnd)] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(path, bytes);
            CorruptionAssert.OpensOrFailsClearly(() =>
            {
                using var f = SafetensorsFile.Open(path);
                foreach (var t in f.Tensors) Assert.Equal(t.ByteSize, f.Bytes(t).Length);
            }, path, $"trial {trial}");
        }
    }

    private static void WriteRaw(string path, string header, int dataBytes)
    {
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
    }

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "gap")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "needs 12 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside")]
    [InlineData("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, "unsupported dtype 'F8_E4M3'")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "invalid shape")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "overflows")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}}", 8, "twice")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "not valid JSON")]
    [InlineData("[1,2]   ", 0, "does not start with")]
    [InlineData("{\"__metadata__\":{\"format\":1}}", 0, "not a string")]
    public void Hand_corrupted_headers_fail_with_the_problem_named(string header, int dataBytes, string problem)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.safetensors");
        WriteRaw(path, header, dataBytes);
        CorruptionAssert.FailsClearly(() => SafetensorsFile.Open(path).Dispose(), path, problem);
    }

    [Fact]
    public void Absurd_header_length_fails_before_reading()
    {
        using var dir = new TempDir();
        var path = dir.File("huge.safetensors");
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ulong.MaxValue - 3);
        File.WriteAllBytes(path, bytes);
        CorruptionAssert.FailsClearly(() => SafetensorsFile.Open(path).Dispose(), path, "exceeds");
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);
        CorruptionAssert.FailsClearly(() => SafetensorsFile.Open(path).Dispose(), path, "runs past the end");
    }

    [Fact]
    public void Inconsistent_indexes_fail_clearly()
    {
        using var dir = new TempDir();
        var specs = new List<SafetensorsTensorSpec> { new("a", TensorDType.F32, [4]), new("b", TensorDType.F32, [4]) };
        using (var w = new ShardedSafetensorsWriter(dir.Path, specs, maxShardBytes: 16))
        {
            w.Write("a", new float[4]);
            w.Write("b", new float[4]);
            w.Commit();
        }
        var indexPath = dir.File(SafetensorsIndex.FileName);
        var original = File.ReadAllText(indexPath);

        void Expect(string json, string problem, bool notFound = false)
        {
            File.WriteAllText(indexPath, json);
            if (notFound) Assert.Throws<FileNotFoundException>(() => SafetensorsCheckpoint.OpenFolder(dir.Path).Dispose());
            else CorruptionAssert.FailsClearly(() => SafetensorsCheckpoint.OpenFolder(dir.Path).Dispose(), indexPath, problem);
        }

        Expect(original.Replace("model-00002-of-00002", "model-00009-of-00002"), "", notFound: true);
        Expect(original.Replace("\"b\":", "\"c\":"), "not listed in weight_map");
        Expect(original.Replace("\"model-00002-of-00002.safetensors\"", "\"model-00001-of-00002.safetensors\""), "does not contain");
        Expect(original.Replace("model-00001-of-00002.safetensors", "../model-00001-of-00002.safetensors"), "not a plain file name");
        Expect("{\"weight_map\": 5}", "weight_map");
        Expect("{\"weight_map\": {\"a\": ", "not valid JSON");
        File.WriteAllText(indexPath, original);
        using var ok = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal(2, ok.Tensors.Count);
    }
}
