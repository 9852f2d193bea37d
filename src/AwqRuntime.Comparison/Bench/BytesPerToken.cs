using AwqRuntime.Formats.Gguf;
using AwqRuntime.Model;

namespace AwqRuntime.Comparison.Bench;

/// <summary>
/// The weight bytes one decode step reads: every block's tensors, the final norm, the classifier and
/// one row of the token embedding (the embedding matrix is only read whole when the classifier is
/// tied to it). The KV cache is not counted: at position p it adds 2 · layers · kv_dim · p elements.
/// </summary>
public static class BytesPerToken
{
    public static long Of(LlamaModel m) =>
        m.Blocks.Sum(b => b.WeightBytes) + (long)m.FinalNorm.Length * sizeof(float) + m.Output.WeightBytes
        + (m.TiedOutput ? 0 : m.Embedding.Bytes / m.Config.VocabSize);

    /// <summary>The same for a GGUF file, from its tensor table (exact byte sizes of each ggml type).</summary>
    public static long Of(string ggufPath)
    {
        using var f = GgufFile.Open(ggufPath);
        var embd = f.Tensors.FirstOrDefault(t => t.Name == "token_embd.weight")
            ?? throw new InvalidDataException($"{ggufPath}: no tensor 'token_embd.weight'");
        var tied = !f.Tensors.Any(t => t.Name == "output.weight");
        var rows = embd.Dims.Length == 2 ? embd.Dims[1] : 1;
        return f.Tensors.Where(t => t.Name != "token_embd.weight").Sum(t => t.ByteSize) + (tied ? embd.ByteSize : embd.ByteSize / rows);
    }
}
