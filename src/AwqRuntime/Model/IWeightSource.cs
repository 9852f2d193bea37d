using AwqRuntime.Formats;

namespace AwqRuntime.Model;

/// <summary>Name, stored element type and row-major shape ([out, in] for weights) of one tensor.</summary>
public sealed record WeightInfo(string Name, TensorDType DType, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>
/// A checkpoint's weights under canonical names and layout (<see cref="LlamaTensorNames"/>),
/// readable one tensor at a time so that a pipeline can hold one block in fp32 while the rest stays
/// memory-mapped in its stored type. Implementations validate shapes against <see cref="Config"/>
/// when opened; ReadFloat32 converts F16/BF16 (and any other supported stored type) to fp32.
/// </summary>
public interface IWeightSource : IDisposable
{
    /// <summary>The file or folder this was loaded from (for error messages).</summary>
    string Path { get; }

    LlamaConfig Config { get; }

    /// <summary>The file and field the context length came from ("model.gguf: llama.context_length"), for errors about it.</summary>
    string ContextOrigin => $"{Path}: max_position_embeddings";

    IReadOnlyList<WeightInfo> Tensors { get; }

    bool Contains(string name);

    WeightInfo Info(string name);

    /// <summary>The tensor in canonical layout as fp32; throws InvalidDataException naming file and tensor if absent or unreadable.</summary>
    float[] ReadFloat32(string name);

    /// <summary>
    /// The tensor in canonical layout as fp16 bits (a finite value beyond ±65504 is an error). Sources
    /// that store fp16 return their bits without the fp32 copy — the quantizer reads the embedding
    /// and classifier this way.
    /// </summary>
    /// <summary>
    /// The weight as group-wise INT4 when its stored form maps onto it exactly (a GGUF's Q4_0 blocks, for
    /// one), so the runtime can run it on the INT4 kernels without re-rounding; null when it does not.
    /// </summary>
    Quantization.QuantizedWeights? ReadInt4(string name) => null;

    ushort[] ReadFloat16(string name) => Numerics.Fp16Encoder.Encode(ReadFloat32(name), $"{Path}: {name}");
}
