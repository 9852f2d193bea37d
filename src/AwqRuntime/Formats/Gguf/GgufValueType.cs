namespace AwqRuntime.Formats.Gguf;

/// <summary>GGUF metadata value types (gguf_type in ggml's gguf.h).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
    String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
}

/// <summary>
/// One metadata value. Scalars are boxed as their exact CLR type (uint, float, bool, string...);
/// arrays as a typed CLR array (string[], float[], int[], ...), with ElementType recorded so a
/// writer can reproduce the file's exact types (llama.cpp type-checks keys strictly).
/// </summary>
public sealed record GgufValue(GgufValueType Type, object Value, GgufValueType ElementType = GgufValueType.UInt8)
{
    public static GgufValue Of(string s) => new(GgufValueType.String, s);
    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, v);
    public static GgufValue Of(int v) => new(GgufValueType.Int32, v);
    public static GgufValue Of(float v) => new(GgufValueType.Float32, v);
    public static GgufValue Of(bool v) => new(GgufValueType.Bool, v);
    public static GgufValue Of(string[] v) => new(GgufValueType.Array, v, GgufValueType.String);
    public static GgufValue Of(float[] v) => new(GgufValueType.Array, v, GgufValueType.Float32);
    public static GgufValue Of(int[] v) => new(GgufValueType.Array, v, GgufValueType.Int32);
}

/// <summary>A tensor's entry in the GGUF tensor table.</summary>
/// <param name="Dims">ggml order: Dims[0] varies fastest (for a PyTorch [out, in] weight, Dims = [in, out]).</param>
/// <param name="Offset">Byte offset from the start of the data section.</param>
public sealed record GgufTensorInfo(string Name, long[] Dims, TensorDType Type, long Offset, long ByteSize)
{
    /// <summary>Row-major shape, slowest dimension first ([out, in] for a weight).</summary>
    public long[] Shape => Dims.Reverse().ToArray();

    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);
}
