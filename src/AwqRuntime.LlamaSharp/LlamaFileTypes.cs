using LLama.Native;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Names accepted by <see cref="GgufQuantizer"/> (llama-quantize's type names) and their llama_ftype.
/// Matching is exact (case-insensitive), unlike LLamaQuantizer's string overload, which matches
/// substrings ("Q4_K" silently picking one of Q4_K_S / Q4_K_M).
/// </summary>
public static class LlamaFileTypes
{
    private static readonly (string Name, LLamaFtype Type)[] Table =
    [
        ("F32", LLamaFtype.ALL_F32), ("F16", LLamaFtype.MOSTLY_F16), ("BF16", LLamaFtype.MOSTLY_BF16),
        ("Q4_0", LLamaFtype.MOSTLY_Q4_0), ("Q4_1", LLamaFtype.MOSTLY_Q4_1),
        ("Q5_0", LLamaFtype.MOSTLY_Q5_0), ("Q5_1", LLamaFtype.MOSTLY_Q5_1), ("Q8_0", LLamaFtype.MOSTLY_Q8_0),
        ("Q2_K", LLamaFtype.MOSTLY_Q2_K), ("Q2_K_S", LLamaFtype.MOSTLY_Q2_K_S),
        ("Q3_K_S", LLamaFtype.MOSTLY_Q3_K_S), ("Q3_K_M", LLamaFtype.MOSTLY_Q3_K_M), ("Q3_K_L", LLamaFtype.MOSTLY_Q3_K_L),
        ("Q4_K_S", LLamaFtype.MOSTLY_Q4_K_S), ("Q4_K_M", LLamaFtype.MOSTLY_Q4_K_M),
        ("Q5_K_S", LLamaFtype.MOSTLY_Q5_K_S), ("Q5_K_M", LLamaFtype.MOSTLY_Q5_K_M), ("Q6_K", LLamaFtype.MOSTLY_Q6_K),
        ("IQ4_NL", LLamaFtype.MOSTLY_IQ4_NL), ("IQ4_XS", LLamaFtype.MOSTLY_IQ4_XS),
        ("IQ3_XXS", LLamaFtype.MOSTLY_IQ3_XXS), ("IQ3_XS", LLamaFtype.MOSTLY_IQ3_K_XS), ("IQ3_S", LLamaFtype.MOSTLY_IQ3_S),
        ("IQ3_M", LLamaFtype.MOSTLY_IQ3_M), ("IQ2_XXS", LLamaFtype.MOSTLY_IQ2_XXS), ("IQ2_XS", LLamaFtype.MOSTLY_IQ2_XS),
        ("IQ2_S", LLamaFtype.MOSTLY_IQ2_S), ("IQ2_M", LLamaFtype.MOSTLY_IQ2_M), ("IQ1_S", LLamaFtype.MOSTLY_IQ1_S),
        ("IQ1_M", LLamaFtype.MOSTLY_IQ1_M),
    ];

    /// <summary>Every accepted name, in llama-quantize's order of appearance.</summary>
    public static IReadOnlyList<string> Names { get; } = Table.Select(t => t.Name).ToArray();

    /// <summary>The name of a GGUF's general.file_type (a llama_ftype value), or null for one not in the table.</summary>
    public static string? NameOf(int fileType)
    {
        foreach (var (typeName, ftype) in Table)
            if ((int)ftype == fileType) return typeName;
        return null;
    }

    internal static bool TryParse(string name, out LLamaFtype type)
    {
        foreach (var (typeName, ftype) in Table)
            if (string.Equals(typeName, name, StringComparison.OrdinalIgnoreCase))
            {
                type = ftype;
                return true;
            }
        type = default;
        return false;
    }
}
