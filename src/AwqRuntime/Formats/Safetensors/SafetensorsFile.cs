using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace AwqRuntime.Formats.Safetensors;

/// <summary>One tensor of a safetensors file; Begin/End are byte offsets inside the data section.</summary>
public sealed record SafetensorsTensorInfo(string Name, TensorDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
    public long ByteSize => End - Begin;
}

/// <summary>
/// A safetensors file, memory-mapped: u64 little-endian header length N, N bytes of JSON
/// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}), then the
/// data section. Validated like the reference implementation (huggingface/safetensors
/// safetensors/src/tensor.rs): header at most 100 MB and inside the file, well-formed JSON starting
/// with '{', known dtypes, byte size = element count × dtype size, and the tensors' ranges tile the
/// data section exactly (no overlap, no gap, nothing after the last tensor). Every failure is an
/// InvalidDataException naming the file and the problem.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    /// <summary>The reference implementation's MAX_HEADER_SIZE.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MappedFile _file;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName = new(StringComparer.Ordinal);

    private SafetensorsFile(MappedFile file) => _file = file;

    public string Path => _file.Path;
    public long FileSize => _file.Length;

    /// <summary>Absolute file offset of the data section (8 + header length).</summary>
    public long DataOffset { get; private set; }

    /// <summary>Tensors in data-section order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; private set; } = [];

    /// <summary>The optional "__metadata__" map (e.g. {"format": "pt"}); empty when absent.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; private set; } = new Dictionary<string, string>();

    public static SafetensorsFile Open(string path)
    {
        var file = new MappedFile(path);
        var st = new SafetensorsFile(file);
        try
        {
            st.Parse();
            return st;
        }
        catch
        {
            st.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGet(string name, out SafetensorsTensorInfo info) => _byName.TryGetValue(name, out info!);

    public SafetensorsTensorInfo Get(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"{Path}: tensor '{name}' is not in this file");

    /// <summary>The tensor's stored bytes (valid while this file is open).</summary>
    public ReadOnlySpan<byte> Bytes(SafetensorsTensorInfo t) => _file.Span(DataOffset + t.Begin, t.ByteSize);

    public ReadOnlySpan<byte> Bytes(string name) => Bytes(Get(name));

    /// <summary>An F32/F16/BF16/F64 tensor converted to fp32, in stored layout.</summary>
    public float[] ReadFloat32(string name)
    {
        var t = Get(name);
        if (t.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16 or TensorDType.F64))
            throw new InvalidDataException($"{Path}: tensor '{name}' has dtype {SafetensorsDTypes.Name(t.DType)}, which is not a floating-point type");
        if (t.ElementCount > Array.MaxLength)
            throw new InvalidDataException($"{Path}: tensor '{name}' has {t.ElementCount} elements, more than one fp32 array can hold");
        var result = new float[t.ElementCount];
        TensorConversion.ToFloat32(t.DType, Bytes(t), result);
        return result;
    }

    /// <summary>A raw copy of the tensor's elements as <typeparamref name="T"/>, which must have the dtype's element size (e.g. int for I32, Half for F16).</summary>
    public T[] Read<T>(string name) where T : unmanaged
    {
        var t = Get(name);
        var size = SafetensorsDTypes.ElementSize(t.DType);
        if (Marshal.SizeOf<T>() != size)
            throw new InvalidDataException($"{Path}: tensor '{name}' has dtype {SafetensorsDTypes.Name(t.DType)} ({size}-byte elements), cannot read it as {typeof(T).Name}");
        return MemoryMarshal.Cast<byte, T>(Bytes(t)).ToArray();
    }

    public void Dispose() => _file.Dispose();

    private InvalidDataException Corrupt(string problem) => new($"{Path}: safetensors: {problem}");

    private void Parse()
    {
        if (_file.Length < 8) throw Corrupt($"file is only {_file.Length} bytes, too short for the 8-byte header length");
        var headerLen = BinaryPrimitives.ReadUInt64LittleEndian(_file.Span(0, 8));
        if (headerLen > MaxHeaderBytes) throw Corrupt($"header length {headerLen} exceeds the {MaxHeaderBytes}-byte limit (not a safetensors file, or corrupt)");
        if ((long)headerLen > _file.Length - 8)
            throw Corrupt($"header length {headerLen} runs past the end of the file ({_file.Length} bytes); the file is truncated or corrupt");
        if (headerLen < 2) throw Corrupt($"header length {headerLen} is too small for a JSON object");
        var header = _file.Span(8, (long)headerLen).ToArray();
        if (header[0] != (byte)'{') throw Corrupt("header does not start with '{'");
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Corrupt("header is not valid UTF-8");
        DataOffset = 8 + (long)headerLen;
        var dataLen = _file.Length - DataOffset;

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Corrupt($"header is not valid JSON: {StrictJson.Reason(e)}");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Corrupt("header is not a JSON object");
            var tensors = new List<SafetensorsTensorInfo>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw Corrupt($"key '{prop.Name}' appears twice in the header");
                if (prop.Name == "__metadata__")
                {
                    Metadata = ParseMetadata(prop.Value);
                    continue;
                }
                var t = ParseTensor(prop.Name, prop.Value, dataLen);
                tensors.Add(t);
                _byName.Add(t.Name, t);
            }
            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            CheckTiling(tensors, dataLen);
            Tensors = tensors;
        }
    }

    private Dictionary<string, string> ParseMetadata(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Corrupt("__metadata__ is not a JSON object");
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in e.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String) throw Corrupt($"__metadata__ value '{p.Name}' is not a string");
            if (!meta.TryAdd(p.Name, p.Value.GetString()!)) throw Corrupt($"__metadata__ key '{p.Name}' appears twice");
        }
        return meta;
    }

    private SafetensorsTensorInfo ParseTensor(string name, JsonElement e, long dataLen)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Corrupt($"entry for tensor '{name}' is not a JSON object");
        if (!e.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw Corrupt($"tensor '{name}' has no string \"dtype\"");
        var dtypeName = dtypeEl.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Corrupt($"tensor '{name}' has unsupported dtype '{dtypeName}' (supported: {SafetensorsDTypes.Supported})");
        if (!e.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw Corrupt($"tensor '{name}' has no \"shape\" array");
        var shape = new long[shapeEl.GetArrayLength()];
        long elements = 1;
        var i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var v) || v < 0)
                throw Corrupt($"tensor '{name}' has an invalid shape entry {d.GetRawText()}");
            shape[i++] = v;
            if (v != 0 && elements > long.MaxValue / v) throw Corrupt($"tensor '{name}' shape [{string.Join(", ", shape)}] overflows");
            elements *= v;
        }
        if (!e.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw Corrupt($"tensor '{name}' has no [begin, end] \"data_offsets\"");
        var begin = ParseOffset(name, offEl[0]);
        var end = ParseOffset(name, offEl[1]);
        if (begin > end || end > dataLen)
            throw Corrupt($"tensor '{name}' data_offsets [{begin}, {end}] lie outside the {dataLen}-byte data section; the file is truncated or corrupt");
        var size = SafetensorsDTypes.ElementSize(dtype);
        if (elements > long.MaxValue / size || end - begin != elements * size)
            throw Corrupt($"tensor '{name}' ({dtypeName} [{string.Join(", ", shape)}]) needs {(elements > long.MaxValue / size ? "too many" : (elements * size).ToString())} bytes but data_offsets [{begin}, {end}] span {end - begin}");
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private long ParseOffset(string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v) || v < 0)
            throw Corrupt($"tensor '{name}' has an invalid data offset {e.GetRawText()}");
        return v;
    }

    private void CheckTiling(List<SafetensorsTensorInfo> sorted, long dataLen)
    {
        long cursor = 0;
        SafetensorsTensorInfo? prev = null;
        foreach (var t in sorted)
        {
            if (t.Begin < cursor) throw Corrupt($"tensors '{prev!.Name}' and '{t.Name}' overlap (bytes {t.Begin}..{cursor})");
            if (t.Begin > cursor) throw Corrupt($"gap of {t.Begin - cursor} bytes before tensor '{t.Name}' in the data section");
            cursor = t.End;
            prev = t;
        }
        if (cursor != dataLen)
            throw Corrupt($"the data section holds {dataLen} bytes but the tensors cover {cursor}; the file is truncated, padded or corrupt");
    }
}
