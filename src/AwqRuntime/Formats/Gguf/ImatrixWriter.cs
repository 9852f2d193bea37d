using AwqRuntime.Model;
using AwqRuntime.Quantization;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// Calibration statistics as a llama.cpp importance-matrix GGUF (ggml-org/llama.cpp tools/imatrix/imatrix.cpp,
/// IMatrixCollector::save_imatrix; read by tools/quantize): general.type = "imatrix", imatrix.datasets
/// (string array), imatrix.chunk_count and imatrix.chunk_size (u32), and per linear weight, under its GGUF
/// tensor name (blk.N.attn_q.weight ...), "&lt;name&gt;.in_sum2" F32 [ne0 = in_features, ne1 = 1] = Σ x² of each
/// input channel over the calibration tokens, and "&lt;name&gt;.counts" F32 [ne0 = 1, ne1 = 1] = the token count.
/// Entries are written in sorted name order, as llama.cpp does.
/// </summary>
public static class ImatrixWriter
{
    /// <summary>
    /// The values llama-quantize takes from such a file, without writing one: GGUF weight name → the mean x²
    /// per input column (divided in double; <see cref="ImatrixReader"/>'s in_sum2 / counts from the file agree to float rounding).
    /// </summary>
    public static Dictionary<string, float[]> Importance(IReadOnlyDictionary<string, ChannelStats> stats) =>
        stats.ToDictionary(kv => GgufName(kv.Key), kv => kv.Value.MeanSquare(), StringComparer.Ordinal);

    private static string GgufName(string module) => GgufTensorNames.ToGguf(module + ".weight");

    public static void Write(string path, IReadOnlyDictionary<string, ChannelStats> stats, string dataset, int chunkSize)
    {
        if (stats.Count == 0) throw new ArgumentException("no activation statistics to write (the calibration forward did not run)");
        if (chunkSize <= 0) throw new ArgumentException($"chunk size must be positive (got {chunkSize})");
        var entries = stats.Select(kv => (Name: GgufName(kv.Key), Stats: kv.Value))
            .OrderBy(e => e.Name, StringComparer.Ordinal).ToList();
        var tokens = entries[0].Stats.Count;
        var w = new GgufWriter()
            .Add("general.type", GgufValue.Of("imatrix"))
            .Add("imatrix.datasets", GgufValue.Of([dataset]))
            .Add("imatrix.chunk_count", GgufValue.Of((uint)(tokens / chunkSize)))
            .Add("imatrix.chunk_size", GgufValue.Of((uint)chunkSize));
        foreach (var (name, st) in entries)
        {
            w.AddTensor($"{name}.in_sum2", [1, st.Channels], TensorDType.F32, st.SumSquare);
            w.AddTensor($"{name}.counts", [1, 1], TensorDType.F32, () => [st.Count]);
        }
        w.Write(path);
    }
}
