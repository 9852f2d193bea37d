using AwqRuntime.Formats.Gguf;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// The tensor table of a GGUF file (name, ggml type, dims, offset), to report which type llama.cpp
/// gave each tensor. A view over the project's validated reader (<see cref="GgufFile"/>), so a
/// corrupt file gives the same InvalidDataException naming the file and the field.
/// </summary>
public static class GgufTensorTable
{
    public static IReadOnlyList<GgufTensorInfo> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var gguf = GgufFile.Open(path);
        return gguf.Tensors.Select(t => new GgufTensorInfo(t.Name, (int)t.Type, t.Dims, (ulong)t.Offset)).ToList();
    }
}
