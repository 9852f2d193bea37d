using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AwqRuntime.Formats.Safetensors;

/// <summary>Name, dtype and row-major shape of a tensor to be written.</summary>
public sealed record SafetensorsTensorSpec(string Name, TensorDType DType, long[] Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => checked(a * d));
    public long ByteSize => checked(ElementCount * SafetensorsDTypes.ElementSize(DType));
}

/// <summary>
/// Streams one safetensors file: the header (all tensors, in the given order, and optional
/// __metadata__) is written first, then each tensor's data in that same order, one call per tensor,
/// so a caller never needs the whole model in memory. The header is padded with spaces to a multiple
/// of 8 bytes as the reference writer does, keeping the data section 8-byte aligned. Output goes to a
/// temporary file beside the target, renamed onto it by <see cref="Commit"/>; disposing without
/// committing deletes it, so a failed write never leaves a partial checkpoint under the real name.
/// </summary>
public sealed class SafetensorsWriter : IDisposable
{
    private const int ChunkElements = 1 << 20;

    private readonly IReadOnlyList<SafetensorsTensorSpec> _specs;
    private readonly string _tempPath;
    private FileStream? _stream;
    private int _next;
    private bool _committed;

    public SafetensorsWriter(string path, IReadOnlyList<SafetensorsTensorSpec> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Path = System.IO.Path.GetFullPath(path);
        _specs = tensors;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (t.Name == "__metadata__" || !names.Add(t.Name)) throw new ArgumentException($"{Path}: tensor name '{t.Name}' is duplicated or reserved");
            if (t.Shape.Any(d => d < 0)) throw new ArgumentException($"{Path}: tensor '{t.Name}' has a negative dimension");
            _ = t.ByteSize; // rejects dtypes safetensors cannot hold
        }
        var header = BuildHeader(tensors, metadata);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _tempPath = $"{Path}.tmp-{Guid.NewGuid():N}";
        _stream = new FileStream(_tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        try
        {
            Span<byte> len = stackalloc byte[8];
            BitConverter.TryWriteBytes(len, (ulong)header.Length);
            _stream.Write(len);
            _stream.Write(header);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>The tensor the next Write call must supply, or null when all have been written.</summary>
    public string? NextTensor => _next < _specs.Count ? _specs[_next].Name : null;

    /// <summary>Writes the next tensor from fp32 values, converting to its dtype (F32, F16 or BF16).</summary>
    public void Write(string name, ReadOnlySpan<float> values)
    {
        var spec = Expect(name, values.Length);
        if (spec.DType is not (TensorDType.F32 or TensorDType.F16 or TensorDType.BF16))
            throw new ArgumentException($"{Path}: tensor '{name}' is {SafetensorsDTypes.Name(spec.DType)}; write it with WriteBytes or Write<T>");
        var elem = SafetensorsDTypes.ElementSize(spec.DType);
        var buffer = new byte[Math.Min(values.Length, ChunkElements) * elem];
        for (var start = 0; start < values.Length; start += ChunkElements)
        {
            var n = Math.Min(ChunkElements, values.Length - start);
            var dst = buffer.AsSpan(0, n * elem);
            TensorConversion.FromFloat32(spec.DType, values.Slice(start, n), dst);
            _stream!.Write(dst);
        }
        _next++;
    }

    /// <summary>Writes the next tensor from raw elements whose size matches its dtype (int for I32, Half for F16, ...).</summary>
    public void Write<T>(string name, ReadOnlySpan<T> values) where T : unmanaged
    {
        var spec = _next < _specs.Count ? _specs[_next] : null;
        if (spec != null && Marshal.SizeOf<T>() != SafetensorsDTypes.ElementSize(spec.DType))
            throw new ArgumentException($"{Path}: tensor '{name}' is {SafetensorsDTypes.Name(spec.DType)}, cannot write {typeof(T).Name} elements");
        WriteBytes(name, MemoryMarshal.AsBytes(values));
    }

    /// <summary>Writes the next tensor's bytes exactly as stored (little-endian, ByteSize bytes).</summary>
    public void WriteBytes(string name, ReadOnlySpan<byte> bytes)
    {
        var spec = Expect(name, null);
        if (bytes.Length != spec.ByteSize) throw new ArgumentException($"{Path}: tensor '{name}' needs {spec.ByteSize} bytes, got {bytes.Length}");
        _stream!.Write(bytes);
        _next++;
    }

    /// <summary>Flushes to disk and renames the temporary file onto <see cref="Path"/>.</summary>
    public void Commit()
    {
        var temp = Finish();
        File.Move(temp, Path, overwrite: true);
        _committed = true;
    }

    /// <summary>Checks every tensor was written, flushes and closes; the caller renames the returned temp file.</summary>
    internal string Finish()
    {
        if (_stream == null) throw new InvalidOperationException($"{Path}: writer already finished");
        if (_next != _specs.Count) throw new InvalidOperationException($"{Path}: tensor '{_specs[_next].Name}' and {_specs.Count - _next - 1} more were not written");
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        _stream = null;
        return _tempPath;
    }

    internal void MarkCommitted() => _committed = true;

    internal string TempPath => _tempPath;

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
        if (!_committed && File.Exists(_tempPath)) File.Delete(_tempPath);
    }

    private SafetensorsTensorSpec Expect(string name, long? elements)
    {
        if (_stream == null) throw new InvalidOperationException($"{Path}: writer is finished");
        if (_next >= _specs.Count) throw new InvalidOperationException($"{Path}: all tensors were already written, got '{name}'");
        var spec = _specs[_next];
        if (spec.Name != name) throw new InvalidOperationException($"{Path}: expected tensor '{spec.Name}' next (header order), got '{name}'");
        if (elements.HasValue && elements != spec.ElementCount)
            throw new ArgumentException($"{Path}: tensor '{name}' has shape [{string.Join(", ", spec.Shape)}] = {spec.ElementCount} elements, got {elements}");
        return spec;
    }

    /// <summary>The JSON header, space-padded so that 8 + its length is a multiple of 8.</summary>
    internal static byte[] BuildHeader(IReadOnlyList<SafetensorsTensorSpec> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in tensors)
            {
                w.WriteStartObject(t.Name);
                w.WriteString("dtype", SafetensorsDTypes.Name(t.DType));
                w.WriteStartArray("shape");
                foreach (var d in t.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                offset += t.ByteSize;
                w.WriteNumberValue(offset);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        var pad = (8 - (int)(ms.Length % 8)) % 8;
        for (var i = 0; i < pad; i++) ms.WriteByte((byte)' ');
        return ms.ToArray();
    }

    /// <summary>Writes a whole file from in-memory fp32 tensors (converted to each spec's dtype).</summary>
    public static void WriteFile(string path, IEnumerable<(SafetensorsTensorSpec Spec, float[] Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        using var w = new SafetensorsWriter(path, list.Select(t => t.Spec).ToList(), metadata);
        foreach (var (spec, data) in list) w.Write(spec.Name, data);
        w.Commit();
    }
}
