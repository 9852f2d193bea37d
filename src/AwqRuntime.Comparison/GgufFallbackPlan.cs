using System.Globalization;
using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Comparison;

/// <summary>
/// Which tensors a llama.cpp type cannot quantize on a given model, what to do about them, and what
/// llama.cpp actually wrote. Every ggml quantization packs a row in blocks: 32 elements for the plain
/// formats, 256 for the K- and IQ-quants. A row whose length the block does not divide cannot be
/// stored in that type. llama.cpp (llama-quant.cpp, tensor_type_fallback) swaps a K/IQ-quant for a
/// 32-block type (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, low-bit types→IQ4_NL) and then for F16, but has no
/// fallback for the plain formats and refuses the whole file. For those we ask for F16, through a
/// per-tensor override, on exactly the tensors whose rows 32 does not divide — the type llama.cpp's
/// own chain ends in — and say so in the report.
/// </summary>
public static class GgufFallbackPlan
{
    /// <summary>The type every refused tensor is kept at.</summary>
    public const string FallbackType = "F16";

    private static readonly string[] PlainTypes = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "IQ4_NL"];
    private static readonly string[] FloatTypes = ["F32", "F16", "BF16"];

    /// <summary>Elements per block of a llama-quantize type name's main tensor type (1 for float types).</summary>
    public static int BlockSize(string type)
    {
        if (FloatTypes.Contains(type, StringComparer.OrdinalIgnoreCase)) return 1;
        return PlainTypes.Contains(type, StringComparer.OrdinalIgnoreCase) ? 32 : 256;
    }

    /// <summary>Whether llama.cpp substitutes a type by itself for rows the block does not divide.</summary>
    public static bool LlamaCppFallsBack(string type) => !PlainTypes.Contains(type, StringComparer.OrdinalIgnoreCase);

    /// <summary>Weight matrices (2-D or more) whose rows (the innermost GGUF dimension) <paramref name="block"/> does not divide.</summary>
    public static IReadOnlyList<GgufTensorInfo> Unsplittable(IEnumerable<GgufTensorInfo> tensors, int block) =>
        block <= 1 ? [] : tensors.Where(t => t.Dimensions.Count >= 2 && t.Dimensions[0] % block != 0).ToList();

    /// <summary>
    /// Per-tensor overrides (exact-name patterns → F16) for a type without a llama.cpp fallback; empty
    /// when llama.cpp handles every tensor itself.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Overrides(IEnumerable<GgufTensorInfo> sourceTensors, string type)
    {
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        if (LlamaCppFallsBack(type)) return overrides;
        foreach (var t in Unsplittable(sourceTensors, BlockSize(type))) overrides[ExactPattern(t.Name)] = FallbackType;
        return overrides;
    }

    /// <summary>A regular expression (llama.cpp uses std::regex_search) that matches exactly this tensor name.</summary>
    public static string ExactPattern(string tensorName)
    {
        var escaped = new System.Text.StringBuilder("^");
        foreach (var ch in tensorName)
        {
            if (!char.IsAsciiLetterOrDigit(ch) && ch != '_') escaped.Append('\\');
            escaped.Append(ch);
        }
        return escaped.Append('$').ToString();
    }

    /// <summary>
    /// Sentences for the report: which tensors are stored at another type than <paramref name="type"/>
    /// implies, grouped by the type they got and by tensor kind ("ffn_down ×5"), and whether that
    /// was our override or llama.cpp's own fallback.
    /// </summary>
    public static IReadOnlyList<string> Describe(IReadOnlyList<GgufTensorInfo> written, string type, IReadOnlyDictionary<string, string> overrides)
    {
        var notes = new List<string>();
        var block = BlockSize(type);
        var odd = Unsplittable(written, block);
        if (odd.Count == 0) return notes;
        var overridden = odd.Where(t => overrides.ContainsKey(ExactPattern(t.Name))).ToList();
        if (overridden.Count > 0)
            notes.Add($"kept at {FallbackType} by a tensor-type override (llama.cpp has no fallback for {type}; rows of {Widths(overridden)} are not a multiple of {block}): {Kinds(overridden)}");
        var byLlamaCpp = odd.Except(overridden).ToList();
        if (byLlamaCpp.Count > 0)
            notes.Add($"llama.cpp fell back (rows of {Widths(byLlamaCpp)} are not a multiple of {block}): " +
                string.Join("; ", byLlamaCpp.GroupBy(t => t.TypeName).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} for {Kinds(g)}")));
        if (block == 256 && !written.Any(t => t.Dimensions.Count >= 2 && IsSuperBlockType(t.TypeName)))
            notes.Add($"no tensor is stored in a 256-block (K/IQ) type, so on this model {type} is the fallback mix above");
        return notes;
    }

    private static bool IsSuperBlockType(string ggmlType) =>
        ggmlType.EndsWith("_K", StringComparison.Ordinal) || (ggmlType.StartsWith("IQ", StringComparison.Ordinal) && ggmlType != "IQ4_NL");

    /// <summary>"ffn_down ×5, output ×1" — tensor kinds without the block index.</summary>
    public static string Kinds(IEnumerable<GgufTensorInfo> tensors) =>
        string.Join(", ", tensors.GroupBy(t => Kind(t.Name)).Select(g => $"{g.Key} ×{g.Count()}"));

    private static string Widths(IEnumerable<GgufTensorInfo> tensors) =>
        string.Join("/", tensors.Select(t => t.Dimensions[0]).Distinct().Order().Select(w => w.ToString(CultureInfo.InvariantCulture)));

    /// <summary>"blk.3.ffn_down.weight" → "ffn_down"; "output.weight" → "output".</summary>
    public static string Kind(string tensorName)
    {
        var parts = tensorName.Split('.');
        if (parts.Length >= 3 && parts[0] == "blk") return parts[2];
        return parts[0];
    }
}
