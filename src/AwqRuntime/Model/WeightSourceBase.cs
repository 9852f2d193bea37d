namespace AwqRuntime.Model;

/// <summary>
/// Shared bookkeeping of the <see cref="IWeightSource"/> implementations: the canonical tensor
/// table, lookups that name the checkpoint in their errors, and a length check on every read.
/// A subclass registers each canonical tensor with <see cref="Register"/> and decodes it in ReadCore.
/// </summary>
public abstract class WeightSourceBase : IWeightSource
{
    private readonly Dictionary<string, WeightInfo> _infos = new(StringComparer.Ordinal);
    private readonly List<WeightInfo> _list = [];

    protected WeightSourceBase(string path) => Path = path;

    public string Path { get; }

    public LlamaConfig Config { get; protected set; } = null!;

    /// <inheritdoc cref="IWeightSource.ContextOrigin"/>
    public virtual string ContextOrigin => $"{Path}: max_position_embeddings";

    public IReadOnlyList<WeightInfo> Tensors => _list;

    public bool Contains(string name) => _infos.ContainsKey(name);

    public WeightInfo Info(string name) =>
        _infos.TryGetValue(name, out var i) ? i : throw new InvalidDataException(MissingMessage(name));

    /// <summary>The error for a name that has no fp32-readable canonical tensor here.</summary>
    protected virtual string MissingMessage(string name) => $"{Path}: tensor '{name}' is not in this checkpoint";

    /// <summary>When false (the default), a tensor holding NaN or ±Inf is an error naming it (<see cref="NonFiniteCheck"/>).</summary>
    public bool AllowNonFinite { get; set; }

    public float[] ReadFloat32(string name)
    {
        var info = Info(name);
        var data = ReadCore(info);
        if (data.Length != info.ElementCount)
            throw new InvalidDataException($"{Path}: tensor '{name}' decoded to {data.Length} values, expected {info.ElementCount}");
        if (!AllowNonFinite && NonFiniteCheck.FirstNonFinite(data) is >= 0 and var bad)
            throw NonFiniteCheck.Error(Path, name, bad, data[bad]);
        return data;
    }

    /// <summary>Stored fp16 bits, refused when they hold NaN or ±Inf unless <see cref="AllowNonFinite"/>.</summary>
    protected ushort[] CheckedHalf(string name, ushort[] bits)
    {
        if (!AllowNonFinite && NonFiniteCheck.FirstNonFinite(bits) is >= 0 and var bad)
            throw NonFiniteCheck.Error(Path, name, bad, (float)BitConverter.UInt16BitsToHalf(bits[bad]));
        return bits;
    }

    /// <inheritdoc cref="IWeightSource.ReadInt4"/>
    public virtual Quantization.QuantizedWeights? ReadInt4(string name) => null;

    /// <summary>Group scales refused when they hold NaN or ±Inf unless <see cref="AllowNonFinite"/>.</summary>
    protected Quantization.QuantizedWeights CheckedScales(string name, Quantization.QuantizedWeights q)
    {
        if (!AllowNonFinite && NonFiniteCheck.FirstNonFinite(q.Scales) is >= 0 and var bad)
            throw NonFiniteCheck.Error(Path, name, bad, (float)BitConverter.UInt16BitsToHalf(q.Scales[bad]));
        return q;
    }

    /// <inheritdoc cref="IWeightSource.ReadFloat16"/>
    public virtual ushort[] ReadFloat16(string name) => Numerics.Fp16Encoder.Encode(ReadFloat32(name), $"{Path}: {name}");

    protected void Register(WeightInfo info)
    {
        if (info.ElementCount > Array.MaxLength)
            throw new InvalidDataException($"{Path}: tensor '{info.Name}' has {info.ElementCount} elements, more than one fp32 array can hold");
        if (!_infos.TryAdd(info.Name, info)) throw new InvalidDataException($"{Path}: tensor '{info.Name}' appears twice");
        _list.Add(info);
    }

    /// <summary>
    /// Runs a freshly opened source's table building; on a bad checkpoint the half-built source
    /// (its mapped files) is disposed before the error propagates.
    /// </summary>
    protected static T BuildOrDispose<T>(T source, Action build) where T : WeightSourceBase
    {
        try
        {
            build();
            return source;
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Decodes the tensor to fp32 in canonical layout.</summary>
    protected abstract float[] ReadCore(WeightInfo info);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
