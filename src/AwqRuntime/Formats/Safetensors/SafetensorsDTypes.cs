namespace AwqRuntime.Formats.Safetensors;

/// <summary>
/// The dtype strings of the safetensors header ("F32", "BF16", ...) and their <see cref="TensorDType"/>.
/// Only the types a LLaMA/AWQ checkpoint can hold are accepted; anything else is named in the error.
/// </summary>
public static class SafetensorsDTypes
{
    private static readonly Dictionary<string, TensorDType> ByName = new(StringComparer.Ordinal)
    {
        ["F64"] = TensorDType.F64, ["F32"] = TensorDType.F32, ["F16"] = TensorDType.F16, ["BF16"] = TensorDType.BF16,
        ["I64"] = TensorDType.I64, ["I32"] = TensorDType.I32, ["I16"] = TensorDType.I16, ["I8"] = TensorDType.I8,
        ["U8"] = TensorDType.U8, ["BOOL"] = TensorDType.Bool,
    };

    public static bool TryParse(string name, out TensorDType dtype) => ByName.TryGetValue(name, out dtype);

    public static string Name(TensorDType dtype) => dtype switch
    {
        TensorDType.F64 => "F64", TensorDType.F32 => "F32", TensorDType.F16 => "F16", TensorDType.BF16 => "BF16",
        TensorDType.I64 => "I64", TensorDType.I32 => "I32", TensorDType.I16 => "I16", TensorDType.I8 => "I8",
        TensorDType.U8 => "U8", TensorDType.Bool => "BOOL",
        _ => throw new ArgumentException($"{dtype} cannot be stored in safetensors", nameof(dtype)),
    };

    /// <summary>Bytes per element (all safetensors types are plain, unblocked).</summary>
    public static int ElementSize(TensorDType dtype) =>
        TensorDTypeInfo.TryGetBlock(dtype, out var be, out var bb) && be == 1 && ByName.ContainsValue(dtype)
            ? bb
            : throw new ArgumentException($"{dtype} cannot be stored in safetensors", nameof(dtype));

    /// <summary>The names accepted, for error messages.</summary>
    public static string Supported => string.Join(", ", ByName.Keys);
}
