using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Fuzz;

/// <summary>
/// The seed corpus, made at run time from stories260K (llama2.c files and its GGUF) by our own writers:
/// an HF safetensors folder, a sharded one with its index, an AutoAWQ INT4 folder, a compressed-tensors
/// pack-quantized folder, a W8A8 INT8 folder, Q8_0 and Q4_1 GGUF files; and a SentencePiece tokenizer.model.
/// Every seed loads and runs (checked before fuzzing), so a finding is the mutation's doing.
/// </summary>
public static class Seeds
{
    public static IReadOnlyList<FuzzTarget> Build(string shared, string work, Action<string> log)
    {
        Write(shared, work, log);
        return Targets(work);
    }

    /// <summary>
    /// The targets over seeds already written to <paramref name="work"/>, without running any AwqRuntime code
    /// (under afl-fuzz, instrumented code must not run before the fork server starts).
    /// </summary>
    public static IReadOnlyList<FuzzTarget> Targets(string work)
    {
        string Dir(string name) => Directory.Exists(Path.Combine(work, name)) ? Path.Combine(work, name)
            : throw new DirectoryNotFoundException($"{Path.Combine(work, name)}: no seed folder (write the seeds first)");
        var llama2c = Dir("llama2c");
        var sentencepiece = Dir("sentencepiece");
        return
        [
            new FuzzTarget("llama2c", llama2c, [new("model.bin", SeedKind.Llama2cModel), new("tokenizer.bin", SeedKind.Llama2cTokenizer)],
                c => RunModel(Path.Combine(c, "model.bin"), Path.Combine(c, "tokenizer.bin"))),
            GgufTarget("gguf", Dir("gguf")),
            GgufTarget("gguf-q8_0", Dir("gguf-q8_0")),
            FolderTarget("hf", Dir("hf")),
            FolderTarget("hf-sharded", Dir("hf-sharded")),
            FolderTarget("awq", Dir("awq")),
            FolderTarget("compressed-tensors", Dir("compressed-tensors")),
            GgufTarget("gguf-q4_1", Dir("gguf-q4_1")),
            FolderTarget("int8", Dir("int8")),
            new FuzzTarget("sentencepiece", sentencepiece, [new("tokenizer.model", SeedKind.Binary)], c => RunTokenizer(Path.Combine(c, "tokenizer.model"))),
        ];
    }

    /// <summary>Writes every target's seed files into <paramref name="work"/>.</summary>
    public static void Write(string shared, string work, Action<string> log)
    {
        var stories = Path.Combine(shared, "models", "stories260K");
        var bin = Path.Combine(stories, "stories260K.bin");
        var tok = Path.Combine(stories, "tok512.bin");

        var dir = Folder(work, "llama2c");
        File.Copy(bin, Path.Combine(dir, "model.bin"), overwrite: true);
        File.Copy(tok, Path.Combine(dir, "tokenizer.bin"), overwrite: true);
        dir = Folder(work, "gguf");
        File.Copy(Path.Combine(stories, "stories260K.gguf"), Path.Combine(dir, "model.gguf"), overwrite: true);

        log("seeds: writing HF, sharded, AWQ, compressed-tensors, INT8 and GGUF Q8_0/Q4_1 files from stories260K");
        using (var m = AwqModel.FromPretrained(bin, tok))
        {
            dir = Folder(work, "gguf-q8_0");
            GgufModelExporter.Export(m.Source, Path.Combine(dir, "model.gguf"), GgufExportType.Q8_0, GgufTokenizerWriter.ToMetadata(m.Tokenizer.Spec));
            HfCheckpointWriter.Write(m.Source, Path.Combine(work, "hf"), TensorDType.F16,
                new HfWriteOptions { AddFiles = m.WriteTokenizerFiles, Overwrite = true });
            HfCheckpointWriter.Write(m.Source, Path.Combine(work, "hf-sharded"), TensorDType.F16,
                new HfWriteOptions { AddFiles = m.WriteTokenizerFiles, MaxShardBytes = 200_000, Overwrite = true });
        }

        using (var q = AwqModel.FromPretrained(bin, tok))
        {
            // stories260K's down_proj is 172 wide, which 32 does not divide: it stays fp16, as in `awq compare`'s g32 row.
            q.Quantize(CalibrationSet.None, new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 32, ModulesToNotConvert = ["down_proj"] });
            q.SaveQuantized(Path.Combine(work, "awq"), overwrite: true);
            q.SaveQuantized(Path.Combine(work, "compressed-tensors"), overwrite: true, format: Int4CheckpointFormat.CompressedTensors);
            dir = Folder(work, "gguf-q4_1");
            using var src = new ModelWeightSource(q.Model, q.Path);
            GgufModelExporter.Export(src, Path.Combine(dir, "model.gguf"), GgufExportType.Q4_1, GgufTokenizerWriter.ToMetadata(q.Tokenizer.Spec));
        }

        using (var q = AwqModel.FromPretrained(bin, tok))
        {
            q.Quantize(CalibrationSet.None, new AwqConfig { Method = QuantMethod.W8A8Dynamic });
            q.SaveQuantized(Path.Combine(work, "int8"), overwrite: true);
        }

        dir = Folder(work, "sentencepiece");
        File.Copy(Path.Combine(shared, "models", "llama2-tokenizer", "tokenizer.model"), Path.Combine(dir, "tokenizer.model"), overwrite: true);
    }

    private static string Folder(string work, string name)
    {
        var dir = Path.Combine(work, name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static FuzzTarget GgufTarget(string name, string dir) =>
        new(name, dir, [new("model.gguf", SeedKind.Gguf)], c => RunModel(Path.Combine(c, "model.gguf"), null));

    /// <summary>A model folder: every file in it is a seed file, mutated by its kind (JSON, safetensors, other bytes).</summary>
    private static FuzzTarget FolderTarget(string name, string dir)
    {
        var files = Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal)
            .Select(f => new SeedFile(f!, f!.EndsWith(".json", StringComparison.Ordinal) ? SeedKind.Json
                : f.EndsWith(".safetensors", StringComparison.Ordinal) ? SeedKind.Safetensors : SeedKind.Binary))
            .ToList();
        return new FuzzTarget(name, dir, files, c => RunModel(c, null));
    }

    /// <summary>Loads a model as `awq generate` does and generates two tokens greedily in a 16-token context.</summary>
    public static void RunModel(string path, string? tokenizer)
    {
        using var m = AwqModel.Load(path, tokenizer);
        var generator = new TextGenerator(m.Model, m.Tokenizer, contextSize: 16);
        generator.Generate("Once upon a time", new GenerationOptions { MaxTokens = 2, StopAtEos = false });
    }

    /// <summary>Reads a tokenizer file and round-trips text with odd characters through it.</summary>
    public static void RunTokenizer(string path)
    {
        var t = Tokenizer.FromSpec(TokenizerFiles.Read(path));
        var ids = t.Encode("Once upon a time, héllo wörld 🙂 \t\n<s></s>", addBos: true);
        t.Decode(ids);
    }
}
