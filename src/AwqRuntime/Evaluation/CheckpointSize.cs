using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;

namespace AwqRuntime.Evaluation;

/// <summary>
/// Size of a checkpoint counted from its bytes on disk: the whole file(s), the tensor data, and the
/// part that holds the seven linears of every block — the part quantization formats compete on.
/// Bits per weight = tensor bytes · 8 / parameters (metadata and tokenizer excluded).
/// </summary>
public sealed record CheckpointSize(long FileBytes, long TensorBytes, long Parameters, long LinearBytes, long LinearParameters)
{
    public double BitsPerWeight => Parameters == 0 ? double.NaN : TensorBytes * 8.0 / Parameters;
    public double LinearBitsPerWeight => LinearParameters == 0 ? double.NaN : LinearBytes * 8.0 / LinearParameters;

    public static CheckpointSize Measure(string path) => CheckpointLoader.Detect(path) switch
    {
        CheckpointFormat.Gguf => MeasureGguf(path),
        CheckpointFormat.HuggingFace => MeasureSafetensors(Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!),
        _ => MeasureLlama2c(path),
    };

    private static readonly string[] GgufLinears = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];

    private static CheckpointSize MeasureGguf(string path)
    {
        using var g = GgufFile.Open(path);
        long bytes = 0, parms = 0, lb = 0, lp = 0;
        foreach (var t in g.Tensors)
        {
            bytes += t.ByteSize;
            parms += t.ElementCount;
            var parts = t.Name.Split('.');
            if (parts.Length == 4 && parts[0] == "blk" && GgufLinears.Contains(parts[2]))
            {
                lb += t.ByteSize;
                lp += t.ElementCount;
            }
        }
        return new CheckpointSize(g.FileSize, bytes, parms, lb, lp);
    }

    private static CheckpointSize MeasureSafetensors(string folder)
    {
        using var ckpt = SafetensorsCheckpoint.OpenFolder(folder);
        long files = ckpt.Files.Sum(f => f.FileSize), bytes = 0, parms = 0, lb = 0, lp = 0;
        foreach (var t in ckpt.Tensors)
        {
            bytes += t.ByteSize;
            // Biases (Qwen2's q/k/v) are not weights of the linear: they count toward the file only.
            var isLinear = LinearKinds.All.Any(k => t.Name.Contains($".{k.Name()}.", StringComparison.Ordinal)) && !t.Name.EndsWith(".bias", StringComparison.Ordinal);
            // An AutoAWQ linear is three tensors; its parameters are in × out, read off qweight
            // (rows = in) and scales (columns = out). A pack-quantized one is four; weight_shape holds [out, in].
            var count = t.Name.EndsWith(".qzeros", StringComparison.Ordinal) ? 0
                : t.Name.EndsWith(".qweight", StringComparison.Ordinal) ? t.Shape[0] * OutFeatures(ckpt, t.Name)
                : t.Name.EndsWith(".scales", StringComparison.Ordinal) ? 0
                : t.Name.EndsWith(".weight_shape", StringComparison.Ordinal) && isLinear ? PackedParameters(ckpt, t)
                : isLinear && (t.Name.EndsWith(".weight_packed", StringComparison.Ordinal) || t.Name.EndsWith(".weight_zero_point", StringComparison.Ordinal)
                               || (t.Name.EndsWith(".weight_scale", StringComparison.Ordinal) && ckpt.Contains(t.Name[..^"_scale".Length] + "_packed"))) ? 0
                : t.ElementCount;
            parms += count;
            if (isLinear)
            {
                lb += t.ByteSize;
                lp += count;
            }
        }
        return new CheckpointSize(files, bytes, parms, lb, lp);
    }

    /// <summary>out × in of a pack-quantized linear, from its weight_shape tensor (I64 or I32 [2]).</summary>
    private static long PackedParameters(SafetensorsCheckpoint ckpt, SafetensorsTensorInfo shape)
    {
        long[] v = shape.DType == TensorDType.I64 ? ckpt.Read<long>(shape.Name) : ckpt.Read<int>(shape.Name).Select(x => (long)x).ToArray();
        if (v.Length != 2 || v[0] <= 0 || v[1] <= 0) throw new InvalidDataException($"{ckpt.Path}: {shape.Name} must hold [out, in]");
        return v[0] * v[1];
    }

    private static long OutFeatures(SafetensorsCheckpoint ckpt, string qweightName)
    {
        var scales = qweightName[..^".qweight".Length] + ".scales";
        var info = ckpt.Tensors.FirstOrDefault(t => t.Name == scales)
            ?? throw new InvalidDataException($"{ckpt.Path}: {qweightName} has no matching {scales}");
        return info.Shape[^1];
    }

    private static CheckpointSize MeasureLlama2c(string path)
    {
        using var src = CheckpointLoader.Open(path);
        var c = src.Config;
        var linear = LinearKinds.All.Sum(k => k.Shape(c).Aggregate(1L, (a, d) => a * d)) * c.NumLayers;
        var total = src.Tensors.Where(t => !(c.TieWordEmbeddings && t.Name == LlamaTensorNames.Output)).Sum(t => t.ElementCount);
        return new CheckpointSize(new FileInfo(path).Length, total * 4, total, linear * 4, linear);
    }
}
