namespace AwqRuntime.Formats;

/// <summary>
/// Element types of stored tensors, numbered as ggml numbers them (ggml_type), so a GGUF tensor's
/// type code maps directly. Safetensors dtypes map onto the same enum.
/// </summary>
public enum TensorDType
{
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
    IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23,
    I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
    /// <summary>Safetensors-only types (no ggml code): numbered above ggml's range.</summary>
    U8 = 1000, Bool = 1001,
}

/// <summary>Block geometry of each type: elements per block and bytes per block (1 element for plain types).</summary>
public static class TensorDTypeInfo
{
    public static bool TryGetBlock(TensorDType t, out int blockElements, out int blockBytes)
    {
        (blockElements, blockBytes) = t switch
        {
            TensorDType.F32 => (1, 4), TensorDType.F16 => (1, 2), TensorDType.BF16 => (1, 2),
            TensorDType.F64 => (1, 8), TensorDType.I8 => (1, 1), TensorDType.U8 => (1, 1), TensorDType.Bool => (1, 1),
            TensorDType.I16 => (1, 2), TensorDType.I32 => (1, 4), TensorDType.I64 => (1, 8),
            TensorDType.Q4_0 => (32, 18), TensorDType.Q4_1 => (32, 20), TensorDType.Q5_0 => (32, 22),
            TensorDType.Q5_1 => (32, 24), TensorDType.Q8_0 => (32, 34), TensorDType.Q8_1 => (32, 36),
            TensorDType.IQ4_NL => (32, 18),
            TensorDType.Q2_K => (256, 84), TensorDType.Q3_K => (256, 110), TensorDType.Q4_K => (256, 144),
            TensorDType.Q5_K => (256, 176), TensorDType.Q6_K => (256, 210), TensorDType.Q8_K => (256, 292),
            TensorDType.IQ4_XS => (256, 136), TensorDType.IQ2_XXS => (256, 66), TensorDType.IQ2_XS => (256, 74),
            TensorDType.IQ2_S => (256, 82), TensorDType.IQ3_XXS => (256, 98), TensorDType.IQ3_S => (256, 110),
            TensorDType.IQ1_S => (256, 50), TensorDType.IQ1_M => (256, 56),
            _ => (0, 0),
        };
        return blockElements > 0;
    }

    /// <summary>True for ggml's block-quantized types (Q4_0, Q8_0, the K-quants, …): several elements share a scale.</summary>
    public static bool IsBlockQuantized(TensorDType t) => TryGetBlock(t, out var be, out _) && be > 1;

    /// <summary>Bytes of one row of <paramref name="rowElements"/> elements; throws when the block size does not divide the row.</summary>
    public static long RowBytes(TensorDType t, long rowElements)
    {
        if (!TryGetBlock(t, out var be, out var bb)) throw new InvalidDataException($"unsupported tensor type {t}");
        if (rowElements % be != 0) throw new InvalidDataException($"row of {rowElements} elements is not a multiple of {t}'s block of {be}");
        return rowElements / be * bb;
    }
}
