namespace AwqRuntime.Fuzz;

/// <summary>What a header field means, so a mutation can pick values that stress it (and copy values between fields of one role).</summary>
public enum FieldRole
{
    /// <summary>A count or length that sizes what follows (string length, array count, n_dims, tensor/KV count).</summary>
    Count,

    /// <summary>A tensor dimension or model size parameter (dim, n_layers, seq_len...).</summary>
    Dimension,

    /// <summary>A type tag (GGUF value type, ggml tensor type).</summary>
    TypeTag,

    /// <summary>A byte offset into a data section.</summary>
    Offset,

    /// <summary>A scalar metadata value or score.</summary>
    Value,
}

/// <summary>A little-endian integer (or float) field at <paramref name="Pos"/> of <paramref name="Width"/> bytes.</summary>
public sealed record BinaryField(int Pos, int Width, FieldRole Role, string Label);
