namespace AwqRuntime.LlamaSharp;

/// <summary>
/// ggml tensor type ids (enum ggml_type in ggml.h; ids are stable across ggml versions, new types are
/// only appended) and their names as llama.cpp prints them, upper-cased. LLamaSharp's GGMLType enum
/// lacks most of the newer ones (IQ4_NL, BF16, ...), hence this table.
/// </summary>
public static class GgmlTypeNames
{
    private static readonly (int Id, string Name)[] Table =
    [
        (0, "F32"), (1, "F16"), (2, "Q4_0"), (3, "Q4_1"), (6, "Q5_0"), (7, "Q5_1"), (8, "Q8_0"), (9, "Q8_1"),
        (10, "Q2_K"), (11, "Q3_K"), (12, "Q4_K"), (13, "Q5_K"), (14, "Q6_K"), (15, "Q8_K"),
        (16, "IQ2_XXS"), (17, "IQ2_XS"), (18, "IQ3_XXS"), (19, "IQ1_S"), (20, "IQ4_NL"), (21, "IQ3_S"),
        (22, "IQ2_S"), (23, "IQ4_XS"), (24, "I8"), (25, "I16"), (26, "I32"), (27, "I64"), (28, "F64"),
        (29, "IQ1_M"), (30, "BF16"), (34, "TQ1_0"), (35, "TQ2_0"), (39, "MXFP4"),
    ];

    /// <summary>The name of a type id, or "TYPE_&lt;id&gt;" for an id this table does not know.</summary>
    public static string NameOf(int id)
    {
        foreach (var (typeId, name) in Table)
            if (typeId == id) return name;
        return $"TYPE_{id}";
    }

    /// <summary>The id of a type name (case-insensitive), e.g. "f16" → 1.</summary>
    public static bool TryParse(string name, out int id)
    {
        foreach (var (typeId, typeName) in Table)
            if (string.Equals(typeName, name, StringComparison.OrdinalIgnoreCase))
            {
                id = typeId;
                return true;
            }
        id = -1;
        return false;
    }
}
