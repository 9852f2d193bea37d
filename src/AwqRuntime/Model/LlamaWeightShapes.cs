namespace AwqRuntime.Model;

/// <summary>
/// Every tensor a LLaMA decoder with a given <see cref="LlamaConfig"/> has, under canonical names,
/// with the row-major shape the config implies ([out, in] for linears, [hidden] for norms), in
/// checkpoint order: embedding, blocks (norm, q, k, v, o, norm, gate, up, down, each linear's bias
/// after it where the family has one), final norm, lm_head.
/// Loaders check stored tensors against this; writers use it as their tensor plan.
/// </summary>
public static class LlamaWeightShapes
{
    public static IEnumerable<(string Name, long[] Shape)> Expected(LlamaConfig c)
    {
        long h = c.HiddenSize, v = c.VocabSize;
        yield return (LlamaTensorNames.Embedding, [v, h]);
        for (var l = 0; l < c.NumLayers; l++)
        {
            yield return (LlamaTensorNames.AttnNorm(l), [h]);
            foreach (var kind in LinearKinds.All)
            {
                if (kind == LinearKind.GateProj) yield return (LlamaTensorNames.FfnNorm(l), [h]);
                var shape = kind.Shape(c);
                yield return (LlamaTensorNames.Linear(l, kind), shape);
                if (c.Family.HasBias(kind)) yield return (LlamaTensorNames.Bias(l, kind), [shape[0]]);
            }
        }
        yield return (LlamaTensorNames.FinalNorm, [h]);
        yield return (LlamaTensorNames.Output, [v, h]);
    }

    /// <summary>Shape of the linear <paramref name="kind"/> ([out, in]).</summary>
    public static long[] Linear(LlamaConfig c, LinearKind kind) => kind.Shape(c);

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
