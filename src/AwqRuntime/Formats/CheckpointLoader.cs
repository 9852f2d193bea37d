using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Llama2c;
using AwqRuntime.Model;

namespace AwqRuntime.Formats;

/// <summary>The checkpoint formats AwqRuntime loads.</summary>
public enum CheckpointFormat
{
    /// <summary>A folder with config.json and safetensors (plain or AWQ-quantized).</summary>
    HuggingFace,

    /// <summary>A llama-architecture .gguf file.</summary>
    Gguf,

    /// <summary>A llama2.c legacy (version 0) .bin checkpoint.</summary>
    Llama2c,
}

/// <summary>Opens a MODEL argument of any supported format: a folder is HF, a file starting with "GGUF" is GGUF, any other file is tried as llama2.c.</summary>
public static class CheckpointLoader
{
    public static CheckpointFormat Detect(string path)
    {
        if (Directory.Exists(path)) return CheckpointFormat.HuggingFace;
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file or folder", path);
        var name = Path.GetFileName(path);
        if (name == HfModelConfig.FileName || name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ||
            name.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            return CheckpointFormat.HuggingFace;
        Span<byte> magic = stackalloc byte[4];
        using (var fs = File.OpenRead(path))
            if (fs.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual("GGUF"u8))
                return CheckpointFormat.Gguf;
        return CheckpointFormat.Llama2c;
    }

    public static IWeightSource Open(string path) => Detect(path) switch
    {
        CheckpointFormat.HuggingFace => HfWeightSource.Open(Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!),
        CheckpointFormat.Gguf => GgufWeightSource.Open(path),
        _ => Llama2cWeightSource.Open(path),
    };
}
