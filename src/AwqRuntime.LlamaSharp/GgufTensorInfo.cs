namespace AwqRuntime.LlamaSharp;

/// <summary>
/// One entry of a GGUF tensor table. <see cref="Dimensions"/> are in GGUF order, innermost first (a
/// PyTorch [out, in] weight is [in, out]); <see cref="DataOffset"/> is relative to the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, int TypeId, IReadOnlyList<long> Dimensions, ulong DataOffset)
{
    /// <summary>The ggml type name, e.g. "Q8_0".</summary>
    public string TypeName => GgmlTypeNames.NameOf(TypeId);

    public long ElementCount => Dimensions.Aggregate(1L, (a, d) => a * d);
}
