namespace AwqRuntime.LlamaSharp;

/// <summary>
/// llama.cpp's own dequantization of its block types (ggml's dequantize_row_*, the functions its
/// loader and CPU backend decode with), from the native library LLamaSharp loaded — the reference
/// AwqRuntime's GGUF block decoder is tested against.
/// </summary>
public static unsafe class GgmlDequantize
{
    /// <summary>The type names <see cref="ToFloat"/> accepts (ggml's names).</summary>
    public static IReadOnlyList<string> Types { get; } = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"];

    /// <summary>Decodes <paramref name="dst"/>.Length values (whole blocks) of <paramref name="type"/> from <paramref name="blocks"/>.</summary>
    public static void ToFloat(string type, ReadOnlySpan<byte> blocks, Span<float> dst)
    {
        var (elements, bytes) = type switch
        {
            "Q4_0" => (32, 18), "Q4_1" => (32, 20), "Q5_0" => (32, 22), "Q5_1" => (32, 24), "Q8_0" => (32, 34),
            "Q4_K" => (256, 144), "Q5_K" => (256, 176), "Q6_K" => (256, 210),
            _ => throw new ArgumentException($"unknown block type '{type}'; known: {string.Join(", ", Types)}", nameof(type)),
        };
        if (dst.Length % elements != 0 || blocks.Length != dst.Length / elements * bytes)
            throw new ArgumentException($"{type}: {dst.Length} values are not whole blocks of {elements} in {blocks.Length} bytes");
        if (dst.IsEmpty) return;
        LlamaCppNative.EnsureLoaded();
        fixed (byte* x = blocks)
        fixed (float* y = dst)
        {
            long k = dst.Length;
            switch (type)
            {
                case "Q4_0": LlamaCppNativeMethods.dequantize_row_q4_0(x, y, k); break;
                case "Q4_1": LlamaCppNativeMethods.dequantize_row_q4_1(x, y, k); break;
                case "Q5_0": LlamaCppNativeMethods.dequantize_row_q5_0(x, y, k); break;
                case "Q5_1": LlamaCppNativeMethods.dequantize_row_q5_1(x, y, k); break;
                case "Q8_0": LlamaCppNativeMethods.dequantize_row_q8_0(x, y, k); break;
                case "Q4_K": LlamaCppNativeMethods.dequantize_row_q4_K(x, y, k); break;
                case "Q5_K": LlamaCppNativeMethods.dequantize_row_q5_K(x, y, k); break;
                default: LlamaCppNativeMethods.dequantize_row_q6_K(x, y, k); break;
            }
        }
    }
}
