using System.Runtime.InteropServices;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// Reads an importance matrix in llama.cpp's GGUF imatrix format (what <see cref="ImatrixWriter"/> and
/// llama-imatrix write: per weight "NAME.in_sum2" F32 [n_per_row] and "NAME.counts" F32 [1]) as the
/// values llama-quantize gives its quantizer: in_sum2 / counts, the mean of x² per input column
/// (tools/quantize/quantize.cpp, load_imatrix).
/// </summary>
public static class ImatrixReader
{
    private const string SumSuffix = ".in_sum2";
    private const string CountSuffix = ".counts";

    /// <summary>GGUF weight name ("blk.0.attn_q.weight") → mean x² per input column.</summary>
    public static Dictionary<string, float[]> Read(string path)
    {
        using var f = GgufFile.Open(path);
        InvalidDataException Bad(string problem) => new($"{path}: imatrix: {problem}");
        if (f.GetStringOrNull("general.type") is { } type && type != "imatrix") throw Bad($"general.type is '{type}', not 'imatrix'");
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var t in f.Tensors.Where(t => t.Name.EndsWith(SumSuffix, StringComparison.Ordinal)))
        {
            var name = t.Name[..^SumSuffix.Length];
            if (t.Type != TensorDType.F32) throw Bad($"{t.Name} is {t.Type}, expected F32");
            if (!f.TryGetTensor(name + CountSuffix, out var c) || c.Type != TensorDType.F32 || c.ElementCount != 1)
                throw Bad($"{name}{CountSuffix} is missing or not one F32 value (per-expert counts are not supported)");
            var count = MemoryMarshal.Cast<byte, float>(f.TensorBytes(c))[0];
            if (!(count > 0) || !float.IsFinite(count)) throw Bad($"{name}{CountSuffix} is {count}, not a positive count");
            var sums = MemoryMarshal.Cast<byte, float>(f.TensorBytes(t));
            var values = new float[sums.Length];
            for (var i = 0; i < values.Length; i++)
            {
                if (!(sums[i] >= 0) || !float.IsFinite(sums[i])) throw Bad($"{t.Name}[{i}] is {sums[i]}, not a finite sum of squares");
                values[i] = sums[i] / count;
            }
            result[name] = values;
        }
        if (result.Count == 0) throw Bad("no *.in_sum2 tensors");
        return result;
    }
}
