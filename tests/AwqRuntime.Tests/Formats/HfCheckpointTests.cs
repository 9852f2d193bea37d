using System.Text.Json;
using System.Text.Json.Nodes;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Llama2c;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;

namespace AwqRuntime.Tests.Formats;

public class HfCheckpointTests
{
    private static string WriteStories(TempDir dir, TensorDType dtype = TensorDType.F32, string name = "hf", HfWriteOptions? options = null)
    {
        var folder = dir.File(name);
        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        HfCheckpointWriter.Write(bin, folder, dtype, options);
        return folder;
    }

    [Fact]
    public void F32_round_trip_is_exact_and_the_folder_looks_like_save_pretrained()
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir);
        Assert.Equal(["config.json", "generation_config.json", "model.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Single(Directory.GetFileSystemEntries(dir.Path)); // no temp folder left

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "config.json")))!;
        Assert.Equal("LlamaForCausalLM", (string)json["architectures"]![0]!);
        Assert.Equal("llama", (string)json["model_type"]!);
        Assert.Equal("float32", (string)json["torch_dtype"]!);
        Assert.Null(json["rope_scaling"]);
        Assert.True((bool)json["tie_word_embeddings"]!);
        Assert.Equal(1e-5, (double)json["rms_norm_eps"]!);
        Assert.Equal(4, (int)json["num_key_value_heads"]!);
        Assert.Equal(2, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "generation_config.json")))!["eos_token_id"]!);

        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        using var hf = HfWeightSource.Open(folder);
        Assert.Equal(bin.Config with { Name = "" }, hf.Config with { Name = "" });
        Assert.Null(hf.Quantization);
        Assert.False(hf.Checkpoint.Contains(LlamaTensorNames.Output)); // tied: not stored
        Assert.Equal(bin.Tensors.Select(t => t.Name), hf.Tensors.Select(t => t.Name));
        foreach (var t in bin.Tensors)
            Assert.True(bin.ReadFloat32(t.Name).AsSpan().SequenceEqual(hf.ReadFloat32(t.Name)), t.Name);
        Assert.Equal("pt", hf.Checkpoint.Files[0].Metadata["format"]);
    }

    [Fact]
    public void Stored_q_and_k_are_in_rotate_half_order()
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir);
        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        using var hf = HfWeightSource.Open(folder);
        const int d = 8, cols = 64;
        foreach (var (kind, heads) in new[] { (LinearKind.QProj, 8), (LinearKind.KProj, 4) })
        {
            var canonical = bin.ReadFloat32(LlamaTensorNames.Linear(1, kind));
            var stored = hf.Checkpoint.ReadFloat32(LlamaTensorNames.Linear(1, kind)); // raw, as transformers sees it
            // HF row h·d + a·d/2 + b holds interleaved row h·d + 2b + a (llama.cpp's permute, inverted).
            for (var h = 0; h < heads; h++)
                for (var a = 0; a < 2; a++)
                    for (var b = 0; b < d / 2; b++)
                        for (var c = 0; c < cols; c++)
                            Assert.Equal(canonical[(h * d + 2 * b + a) * cols + c], stored[(h * d + a * d / 2 + b) * cols + c]);
            Assert.False(canonical.AsSpan().SequenceEqual(stored));
        }
        // v is not permuted.
        Assert.Equal(bin.ReadFloat32(LlamaTensorNames.Linear(1, LinearKind.VProj)), hf.Checkpoint.ReadFloat32(LlamaTensorNames.Linear(1, LinearKind.VProj)));
    }

    [Theory]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.BF16)]
    public void Half_precision_round_trip_is_within_rounding(TensorDType dtype)
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir, dtype);
        using var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        using var hf = HfWeightSource.Open(folder);
        Assert.Equal(dtype == TensorDType.F16 ? "float16" : "bfloat16", hf.HfConfig.TorchDtype);
        var relative = dtype == TensorDType.F16 ? 1.0 / 2048 : 1.0 / 256;
        foreach (var t in bin.Tensors)
        {
            Assert.Equal(dtype, hf.Info(t.Name).DType);
            var a = bin.ReadFloat32(t.Name);
            var b = hf.ReadFloat32(t.Name);
            for (var i = 0; i < a.Length; i++)
                Assert.True(Math.Abs(a[i] - b[i]) <= Math.Max(Math.Abs(a[i]) * relative, 6e-8), $"{t.Name}[{i}]: {a[i]} vs {b[i]}");
            if (dtype == TensorDType.F16)
                for (var i = 0; i < a.Length; i++) Assert.Equal((float)(Half)a[i], b[i]);
        }
    }

    [Fact]
    public void Untied_sharded_checkpoint_round_trips_through_the_index()
    {
        using var dir = new TempDir("hf");
        var folder = dir.File("sharded");
        using var gguf = GgufWeightSource.Open(SharedData.Stories260KGguf); // untied: output.weight stored
        HfCheckpointWriter.Write(gguf, folder, TensorDType.F32, new HfWriteOptions { MaxShardBytes = 300_000 });
        var shards = Directory.GetFiles(folder, "model-*.safetensors");
        Assert.True(shards.Length >= 3, $"{shards.Length} shards");
        Assert.True(File.Exists(Path.Combine(folder, SafetensorsIndex.FileName)));
        using var hf = HfWeightSource.Open(folder);
        Assert.False(hf.Config.TieWordEmbeddings);
        Assert.True(hf.Checkpoint.Contains(LlamaTensorNames.Output));
        foreach (var t in gguf.Tensors) Assert.Equal(gguf.ReadFloat32(t.Name), hf.ReadFloat32(t.Name));
    }

    [Fact]
    public void Existing_folders_are_kept_unless_overwrite_and_extra_files_land_in_the_result()
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir);
        Assert.Throws<IOException>(() => WriteStories(dir));
        WriteStories(dir, TensorDType.F16, options: new HfWriteOptions
        {
            Overwrite = true,
            AddFiles = tmp => File.WriteAllText(Path.Combine(tmp, "tokenizer_config.json"), "{}"),
            EosTokenIds = [2, 7],
        });
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer_config.json")));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));
        using var hf = HfWeightSource.Open(folder);
        Assert.Equal(TensorDType.F16, hf.Info(LlamaTensorNames.Embedding).DType);
        Assert.Equal([2, 7], hf.HfConfig.EosTokenIds);
        Assert.Equal(2, hf.Config.EosTokenId);
    }

    // ---- corruption ----

    private static void EditConfig(string folder, Action<JsonObject> edit)
    {
        var path = Path.Combine(folder, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Rewrites model.safetensors with tensors dropped or replaced (raw bytes kept otherwise).</summary>
    private static void EditTensors(string folder, Func<SafetensorsTensorInfo, (SafetensorsTensorSpec Spec, byte[] Bytes)?> edit)
    {
        var path = Path.Combine(folder, "model.safetensors");
        var entries = new List<(SafetensorsTensorSpec, byte[])>();
        using (var f = SafetensorsFile.Open(path))
            foreach (var t in f.Tensors)
                if (edit(t) is { } e) entries.Add(e);
        using var w = new SafetensorsWriter(path, entries.Select(e => e.Item1).ToList());
        foreach (var (spec, bytes) in entries) w.WriteBytes(spec.Name, bytes);
        w.Commit();
    }

    private static (SafetensorsTensorSpec, byte[]) Keep(string folder, SafetensorsTensorInfo t)
    {
        using var f = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors"));
        return (new SafetensorsTensorSpec(t.Name, t.DType, t.Shape), f.Bytes(t.Name).ToArray());
    }

    [Fact]
    public void Bad_configs_fail_naming_config_json_and_the_key()
    {
        using var dir = new TempDir("hf");
        var good = WriteStories(dir);
        var n = 0;
        void Expect(Action<JsonObject> edit, string problem)
        {
            var folder = dir.File($"c{n++}");
            Directory.CreateDirectory(folder);
            foreach (var f in Directory.GetFiles(good)) File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
            EditConfig(folder, edit);
            CorruptionAssert.FailsClearly(() => HfWeightSource.Open(folder).Dispose(), Path.Combine(folder, "config.json"), problem);
        }

        Expect(j => j.Remove("hidden_size"), "required key 'hidden_size'");
        Expect(j => j["model_type"] = "gpt2", "not a supported family");
        Expect(j => j["rope_scaling"] = JsonNode.Parse("{\"type\":\"linear\",\"factor\":2.0}"), "rope_scaling");
        Expect(j => j["vocab_size"] = "512", "'vocab_size' must be an integer");
        Expect(j => j["num_key_value_heads"] = 3, "not a multiple");
        Expect(j => j["hidden_act"] = "gelu", "hidden_act 'gelu'");
        Expect(j => j["attention_bias"] = true, "attention_bias");
        Expect(j => j["bos_token_id"] = 9999, "outside the vocabulary");
        Expect(j => j["head_dim"] = 0, "head_dim must be positive");
        Expect(j => j["quantization_config"] = JsonNode.Parse("{\"quant_method\":\"gptq\",\"bits\":4}"), "'gptq' is not supported");

        var folderBad = dir.File("badjson");
        Directory.CreateDirectory(folderBad);
        File.WriteAllText(Path.Combine(folderBad, "config.json"), "{\"hidden_size\": 64,");
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(folderBad).Dispose(), Path.Combine(folderBad, "config.json"), "not valid JSON");
        var empty = dir.File("empty");
        Directory.CreateDirectory(empty);
        Assert.Throws<FileNotFoundException>(() => HfWeightSource.Open(empty).Dispose());
        File.Copy(Path.Combine(good, "config.json"), Path.Combine(empty, "config.json"));
        File.WriteAllText(Path.Combine(empty, "pytorch_model.bin"), "x");
        Assert.Contains("pickle", Assert.Throws<FileNotFoundException>(() => HfWeightSource.Open(empty).Dispose()).Message);
        Assert.Throws<DirectoryNotFoundException>(() => HfWeightSource.Open(dir.File("nope")).Dispose());
    }

    [Fact]
    public void Missing_misshapen_and_mistyped_tensors_fail_naming_file_tensor_and_shapes()
    {
        using var dir = new TempDir("hf");
        var n = 0;
        string Fresh()
        {
            var f = WriteStories(dir, TensorDType.F32, $"t{n++}");
            return f;
        }
        string St(string folder) => Path.Combine(folder, "model.safetensors");

        var f1 = Fresh();
        EditTensors(f1, t => t.Name == LlamaTensorNames.Linear(2, LinearKind.OProj) ? null : Keep(f1, t));
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(f1).Dispose(), St(f1), "'model.layers.2.self_attn.o_proj.weight' is missing (expected shape [64, 64])");

        var f2 = Fresh();
        EditConfig(f2, j => j["intermediate_size"] = 176);
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(f2).Dispose(), St(f2), "'model.layers.0.mlp.gate_proj.weight' has shape [172, 64], but config.json implies [176, 64]");

        var f3 = Fresh();
        EditTensors(f3, t => t.Name == LlamaTensorNames.FfnNorm(1) ? (new SafetensorsTensorSpec(t.Name, TensorDType.I32, t.Shape), new byte[64 * 4]) : Keep(f3, t));
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(f3).Dispose(), St(f3), "unsupported dtype I32");

        var f4 = Fresh();
        EditConfig(f4, j => j["tie_word_embeddings"] = false);
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(f4).Dispose(), St(f4), "'lm_head.weight' is missing");

        var f5 = Fresh();
        EditConfig(f5, j => j["num_hidden_layers"] = 100000);
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(f5).Dispose(), f5, "declares 100000 layers");

        var f6 = Fresh();
        var bytes = File.ReadAllBytes(St(f6));
        File.WriteAllBytes(St(f6), bytes[..(bytes.Length / 2)]);
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(f6).Dispose(), St(f6), "truncated");
    }

    [Fact]
    public void Bit_flips_in_the_safetensors_header_never_crash()
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir);
        var st = Path.Combine(folder, "model.safetensors");
        var good = File.ReadAllBytes(st);
        var headerEnd = 8 + (int)BitConverter.ToUInt64(good);
        var rng = new Random(17);
        for (var trial = 0; trial < 150; trial++)
        {
            var b = (byte[])good.Clone();
            b[rng.Next(headerEnd)] ^= (byte)(1 << rng.Next(8));
            File.WriteAllBytes(st, b);
            CorruptionAssert.OpensOrFailsClearly(() =>
            {
                using var hf = HfWeightSource.Open(folder);
                foreach (var t in hf.Tensors) Assert.Equal(t.ElementCount, hf.ReadFloat32(t.Name).Length);
            }, st, $"trial {trial}");
        }
    }

    [Fact]
    public void Awq_folders_load_with_raw_access_to_quantized_tensors()
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir, TensorDType.F16);
        EditConfig(folder, j => j["quantization_config"] = JsonNode.Parse(
            "{\"bits\":4,\"group_size\":32,\"quant_method\":\"awq\",\"version\":\"GEMM\",\"zero_point\":true,\"modules_to_not_convert\":[\"down_proj\"]}"));
        // Replace each quantized linear's weight with AutoAWQ GEMM-shaped placeholders: qweight [K, N/8] I32, qzeros [K/G, N/8] I32, scales [K/G, N] F16.
        EditTensors(folder, t =>
        {
            if (!t.Name.EndsWith("_proj.weight") || t.Name.Contains("down_proj")) return Keep(folder, t);
            return null;
        });
        var extra = new List<(SafetensorsTensorSpec, byte[])>();
        using (var bin = Llama2cWeightSource.Open(SharedData.Stories260KBin))
            for (var l = 0; l < 5; l++)
                foreach (var kind in LinearKinds.All.Where(k => k != LinearKind.DownProj))
                {
                    var shape = LlamaWeightShapes.Linear(bin.Config, kind);
                    long nOut = shape[0], k = shape[1], packed = (nOut + 7) / 8, groups = (k + 31) / 32;
                    var m = LlamaTensorNames.LinearModule(l, kind);
                    extra.Add((new SafetensorsTensorSpec($"{m}.qweight", TensorDType.I32, [k, packed]), new byte[k * packed * 4]));
                    extra.Add((new SafetensorsTensorSpec($"{m}.qzeros", TensorDType.I32, [groups, packed]), new byte[groups * packed * 4]));
                    extra.Add((new SafetensorsTensorSpec($"{m}.scales", TensorDType.F16, [groups, nOut]), new byte[groups * nOut * 2]));
                }
        var st = Path.Combine(folder, "model.safetensors");
        var kept = new List<(SafetensorsTensorSpec, byte[])>();
        using (var f = SafetensorsFile.Open(st))
            foreach (var t in f.Tensors) kept.Add((new SafetensorsTensorSpec(t.Name, t.DType, t.Shape), f.Bytes(t).ToArray()));
        kept.AddRange(extra);
        using (var w = new SafetensorsWriter(st, kept.Select(e => e.Item1).ToList()))
        {
            foreach (var (s, b) in kept) w.WriteBytes(s.Name, b);
            w.Commit();
        }

        using (var hf = HfWeightSource.Open(folder))
        {
            Assert.NotNull(hf.Quantization);
            Assert.Equal((4, 32, true, "gemm"), (hf.Quantization!.Bits, hf.Quantization.GroupSize, hf.Quantization.ZeroPoint, hf.Quantization.Version));
            Assert.Equal(30, hf.QuantizedModules.Count);
            Assert.True(hf.IsQuantized(0, LinearKind.QProj));
            Assert.False(hf.IsQuantized(0, LinearKind.DownProj));
            Assert.False(hf.Contains(LlamaTensorNames.Linear(0, LinearKind.QProj)));
            Assert.True(hf.Contains(LlamaTensorNames.Linear(0, LinearKind.DownProj)));
            Assert.Contains("AWQ-quantized", Assert.Throws<InvalidDataException>(() => hf.ReadFloat32(LlamaTensorNames.Linear(0, LinearKind.QProj))).Message);
            Assert.Equal(new long[] { 64, 8 }, hf.StoredInfo("model.layers.0.self_attn.q_proj.qweight").Shape);
            Assert.Equal(64 * 8, hf.ReadStored<int>("model.layers.0.self_attn.q_proj.qweight").Length);
            Assert.Equal(2 * 64, hf.ReadStored<Half>("model.layers.0.self_attn.q_proj.scales").Length);
            Assert.Equal(64 * 8 * 4, hf.StoredBytes("model.layers.0.self_attn.q_proj.qweight").Length);
        }

        // A quantized module with a part missing fails naming it.
        EditTensors(folder, t => t.Name == "model.layers.3.mlp.up_proj.qzeros" ? null : Keep(folder, t));
        CorruptionAssert.FailsClearly(() => HfWeightSource.Open(folder).Dispose(), st, "'model.layers.3.mlp.up_proj.qzeros' is missing");
    }

    [Fact]
    public void Legacy_quant_config_json_and_eos_lists_are_read()
    {
        using var dir = new TempDir("hf");
        var folder = WriteStories(dir);
        EditConfig(folder, j => j["eos_token_id"] = new JsonArray(2, 5));
        File.WriteAllText(Path.Combine(folder, "quant_config.json"), "{\"zero_point\":true,\"q_group_size\":64,\"w_bit\":4,\"version\":\"GEMM\"}");
        var cfg = HfModelConfig.ReadFolder(folder);
        Assert.Equal([2, 5], cfg.EosTokenIds);
        Assert.Equal(2, cfg.Llama.EosTokenId);
        Assert.Equal(64, cfg.Quantization!.GroupSize);
        Assert.Equal("gemm", cfg.Quantization.Version);
    }
}
