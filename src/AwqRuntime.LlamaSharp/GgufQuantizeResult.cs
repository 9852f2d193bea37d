namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Outcome of <see cref="GgufQuantizer.Quantize"/>. On failure <see cref="Error"/> says why (llama.cpp's
/// own reason where it gave one) and no destination file exists. <see cref="Warnings"/> carries
/// llama.cpp's fallback notices ("ncols 64 not divisible by 256 ... falling back to q5_0"), which say
/// what a type name really produced on this model; <see cref="Tensors"/> is the written tensor table.
/// </summary>
public sealed record GgufQuantizeResult(
    bool Success,
    string SourcePath,
    string DestinationPath,
    string Type,
    long OutputBytes,
    string? Error,
    IReadOnlyList<string> Warnings,
    IReadOnlyList<GgufTensorInfo> Tensors,
    TimeSpan Elapsed)
{
    /// <summary>How many tensors of each ggml type the output holds, e.g. {Q8_0: 36, F32: 11, F16: 5}.</summary>
    public IReadOnlyDictionary<string, int> TensorTypeCounts =>
        Tensors.GroupBy(t => t.TypeName).OrderByDescending(g => g.Count()).ToDictionary(g => g.Key, g => g.Count());
}
