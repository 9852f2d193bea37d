namespace AwqRuntime.Model;

/// <summary>
/// Every tensor a LLaMA decoder with a given <see cref="LlamaConfig"/> has, under canonical names,
/// with the row-major shape the config implies ([out, in] for linears, [hidden] for norms), in
/// checkpoint order: embedding, blocks (norm, q, k, v, o, norm, gate, up, down), final norm, lm_head.
/// Loaders check stored tensors against this; writers use it as their tensor plan.
/// </summary>
public static class LlamaWeightShapes
{
    public static IEnumerable<(string Name, long[] Shape)> Expected(LlamaConfig c)
    {
        long h = c.HiddenSize, v = c.VocabSize, ff = c.IntermediateSize, q = c.QDim, kv = c.KvDim;
        yield return (LlamaTensorNames.Embedding, [v, h]);
        for (var l = 0; l < c.NumLayers; l++)
        {
            yield return (LlamaTensorNames.AttnNorm(l), [h]);
            yield return (LlamaTensorNames.Linear(l, "q_proj"), [q, h]);
            yield return (LlamaTensorNames.Linear(l, "k_proj"), [kv, h]);
            yield return (LlamaTensorNames.Linear(l, "v_proj"), [kv, h]);
            yield return (LlamaTensorNames.Linear(l, "o_proj"), [h, q]);
            yield return (LlamaTensorNames.FfnNorm(l), [h]);
            yield return (LlamaTensorNames.Linear(l, "gate_proj"), [ff, h]);
            yield return (LlamaTensorNames.Linear(l, "up_proj"), [ff, h]);
            yield return (LlamaTensorNames.Linear(l, "down_proj"), [h, ff]);
        }
        yield return (LlamaTensorNames.FinalNorm, [h]);
        yield return (LlamaTensorNames.Output, [v, h]);
    }

    /// <summary>Shape of the linear <paramref name="kind"/> ([out, in]).</summary>
    public static long[] Linear(LlamaConfig c, string kind) => kind switch
    {
        "q_proj" => [c.QDim, c.HiddenSize],
        "k_proj" or "v_proj" => [c.KvDim, c.HiddenSize],
        "o_proj" => [c.HiddenSize, c.QDim],
        "gate_proj" or "up_proj" => [c.IntermediateSize, c.HiddenSize],
        "down_proj" => [c.HiddenSize, c.IntermediateSize],
        _ => throw new ArgumentException($"unknown linear kind '{kind}'", nameof(kind)),
    };

    /// <summary>Total parameter count (lm_head counted once more unless tied).</summary>
    public static long ParameterCount(LlamaConfig c) =>
        Expected(c).Where(t => !(c.TieWordEmbeddings && t.Name == LlamaTensorNames.Output)).Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d));

    public static string Format(long[] shape) => $"[{string.Join(", ", shape)}]";

    /// <summary>
    /// Checks a checkpoint against the config before any weight is read: every expected tensor is
    /// present (<paramref name="storedShape"/> returns null when absent) with exactly the implied shape.
    /// <paramref name="optional"/> names tensors that may be missing (a tied lm_head).
    /// </summary>
    public static void Check(string source, LlamaConfig c, Func<string, long[]?> storedShape, Func<string, bool>? optional = null)
    {
        foreach (var (name, shape) in Expected(c))
        {
            var actual = storedShape(name);
            if (actual == null)
            {
                if (optional?.Invoke(name) == true) continue;
                throw new InvalidDataException($"{source}: tensor '{name}' is missing (expected shape {Format(shape)})");
            }
            if (!actual.SequenceEqual(shape))
                throw new InvalidDataException($"{source}: tensor '{name}' has shape {Format(actual)}, but the config implies {Format(shape)}");
        }
    }
}
