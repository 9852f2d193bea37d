using System.Buffers.Binary;
using System.Text;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// A GGUF v2/v3 file, memory-mapped: header, metadata, tensor table, and bounds-checked access to
/// tensor bytes. Every count, length, dimension, type and offset is validated before it is used,
/// so a truncated or corrupt file fails with an InvalidDataException naming the file and the field,
/// never with an out-of-range read or an attempt to allocate an absurd array.
/// Layout facts: ggml docs/gguf.md and src/gguf.cpp.
/// </summary>
public sealed class GgufFile : IDisposable
{
    private const uint Magic = 0x46554747; // "GGUF" little-endian
    private const int MaxDims = 4;
    private const int MaxNameBytes = 64; // GGML_MAX_NAME

    private readonly MappedFile _file;
    private readonly Dictionary<string, GgufTensorInfo> _byName = new(StringComparer.Ordinal);

    private GgufFile(MappedFile file) => _file = file;

    public string Path => _file.Path;
    public uint Version { get; private set; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; private set; } = new Dictionary<string, GgufValue>();
    public IReadOnlyList<GgufTensorInfo> Tensors { get; private set; } = [];
    public long Alignment { get; private set; } = 32;
    public long DataOffset { get; private set; }
    public long FileSize => _file.Length;

    public static GgufFile Open(string path)
    {
        var file = new MappedFile(path);
        var gguf = new GgufFile(file);
        try
        {
            gguf.Parse();
            return gguf;
        }
        catch
        {
            gguf.Dispose();
            throw;
        }
    }

    public bool TryGetTensor(string name, out GgufTensorInfo info) => _byName.TryGetValue(name, out info!);

    public GgufTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw new InvalidDataException($"{Path}: tensor '{name}' is missing");

    /// <summary>The raw bytes of a tensor (already validated to lie inside the file).</summary>
    public ReadOnlySpan<byte> TensorBytes(GgufTensorInfo t) => _file.Span(DataOffset + t.Offset, t.ByteSize);

    // ---- metadata accessors: type-checked, with the key named in errors ----

    public bool Has(string key) => Metadata.ContainsKey(key);

    public GgufValue Get(string key) =>
        Metadata.TryGetValue(key, out var v) ? v : throw new InvalidDataException($"{Path}: metadata key '{key}' is missing");

    public string GetString(string key) => Get(key).Value as string ?? throw WrongType(key, "string");

    public string? GetStringOrNull(string key) => Metadata.TryGetValue(key, out var v) ? v.Value as string : null;

    /// <summary>Any integer type that fits in a long (llama.cpp writers use UINT32, the spec suggests UINT64).</summary>
    public long GetInteger(string key) => AsInteger(key, Get(key));

    public long? GetIntegerOrNull(string key) => Metadata.TryGetValue(key, out var v) ? AsInteger(key, v) : null;

    public float GetFloat(string key) => Get(key).Value switch
    {
        float f => f,
        double d => (float)d,
        _ => throw WrongType(key, "float"),
    };

    public float? GetFloatOrNull(string key) => Has(key) ? GetFloat(key) : null;

    public bool? GetBoolOrNull(string key) => Metadata.TryGetValue(key, out var v) ? v.Value as bool? ?? throw WrongType(key, "bool") : null;

    public T[] GetArray<T>(string key) => Get(key).Value as T[] ?? throw WrongType(key, $"array of {typeof(T).Name}");

    public T[]? GetArrayOrNull<T>(string key) => Has(key) ? GetArray<T>(key) : null;

    private long AsInteger(string key, GgufValue v) => v.Value switch
    {
        byte b => b, sbyte sb => sb, ushort us => us, short s => s, uint ui => ui, int i => i,
        long l => l,
        ulong ul when ul <= long.MaxValue => (long)ul,
        _ => throw WrongType(key, "integer"),
    };

    private InvalidDataException WrongType(string key, string expected) =>
        new($"{Path}: metadata key '{key}' has type {Metadata[key].Type}, expected {expected}");

    public void Dispose() => _file.Dispose();

    // ---- parsing ----

    private void Parse()
    {
        var r = new Cursor(_file);
        if (_file.Length < 4 || r.U32("magic") != Magic) throw new InvalidDataException($"{Path}: not a GGUF file (bad magic)");
        if (_file.Length < 24) throw r.Corrupt("header", $"file is only {_file.Length} bytes, a GGUF header needs 24");
        Version = r.U32("version");
        if (Version is not (2 or 3)) throw r.Corrupt("version", $"GGUF version {Version} is not supported (2 or 3)");
        var tensorCount = r.U64("tensor_count");
        var kvCount = r.U64("metadata_kv_count");
        // Each KV needs at least 8 (key length) + 4 (type) + 1 bytes, each tensor info 8+4+8+4+8:
        // reject counts the file cannot possibly hold before allocating anything for them.
        if (kvCount > (ulong)(_file.Length / 13)) throw r.Corrupt("metadata_kv_count", $"{kvCount} entries cannot fit in the file");
        if (tensorCount > (ulong)(_file.Length / 32)) throw r.Corrupt("tensor_count", $"{tensorCount} tensors cannot fit in the file");

        var meta = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        for (ulong i = 0; i < kvCount; i++)
        {
            var key = r.Str("metadata key");
            var type = (GgufValueType)r.U32($"type of '{key}'");
            var value = ReadValue(r, type, key);
            if (!meta.TryAdd(key, value)) throw r.Corrupt(key, "duplicate metadata key");
        }
        Metadata = meta;

        if (meta.TryGetValue("general.alignment", out var align))
        {
            var a = AsInteger("general.alignment", align);
            if (a <= 0 || (a & (a - 1)) != 0) throw r.Corrupt("general.alignment", $"{a} is not a power of two");
            Alignment = a;
        }

        var tensors = new List<GgufTensorInfo>((int)tensorCount);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var name = r.Str($"name of tensor {i}");
            if (Encoding.UTF8.GetByteCount(name) >= MaxNameBytes) throw r.Corrupt(name, $"tensor name longer than {MaxNameBytes - 1} bytes");
            var nDims = r.U32($"n_dims of '{name}'");
            if (nDims is 0 or > MaxDims) throw r.Corrupt(name, $"{nDims} dimensions (1..{MaxDims} allowed)");
            var dims = new long[nDims];
            long elements = 1;
            for (var d = 0; d < nDims; d++)
            {
                var v = r.U64($"dimension {d} of '{name}'");
                if (v == 0 || v > int.MaxValue) throw r.Corrupt(name, $"dimension {d} is {v}");
                dims[d] = (long)v;
                if (elements > long.MaxValue / dims[d]) throw r.Corrupt(name, "element count overflows");
                elements *= dims[d];
            }
            var typeCode = r.U32($"type of '{name}'");
            var type = (TensorDType)typeCode;
            if (typeCode >= 1000 || !TensorDTypeInfo.TryGetBlock(type, out var be, out var bb))
                throw r.Corrupt(name, $"unknown or unsupported ggml type {typeCode}");
            if (dims[0] % be != 0) throw r.Corrupt(name, $"row length {dims[0]} is not a multiple of {type}'s block size {be}");
            var offset = r.U64($"offset of '{name}'");
            var bytes = elements / be <= long.MaxValue / bb ? elements / be * bb : throw r.Corrupt(name, "byte size overflows");
            if (offset > (ulong)_file.Length || offset % (ulong)Alignment != 0)
                throw r.Corrupt(name, $"data offset {offset} is out of range or not aligned to {Alignment}");
            tensors.Add(new GgufTensorInfo(name, dims, type, (long)offset, bytes));
            if (!_byName.TryAdd(name, tensors[^1])) throw r.Corrupt(name, "duplicate tensor name");
        }
        Tensors = tensors;
        DataOffset = (r.Position + Alignment - 1) / Alignment * Alignment;
        // ggml's reader (ggml/src/gguf.cpp, gguf_init_from_file_impl) requires each tensor's data to
        // start exactly where the previous one's, padded to the alignment, ends — in declaration order,
        // from offset 0. That rules out overlaps, gaps, reordering, and sizes that disagree with type × dims.
        long expected = 0;
        GgufTensorInfo? prev = null;
        foreach (var t in tensors)
        {
            if (t.Offset != expected)
                throw r.Corrupt($"tensor '{t.Name}'", $"data offset {t.Offset}, expected {expected}: tensor data must follow one another in declaration order, each padded to {Alignment} bytes"
                    + (prev is null ? "" : $" (the previous tensor '{prev.Name}' is {prev.Type} [{string.Join(", ", prev.Dims)}] = {prev.ByteSize} bytes)"));
            prev = t;
            try
            {
                expected = checked(expected + (t.ByteSize + Alignment - 1) / Alignment * Alignment);
            }
            catch (OverflowException)
            {
                throw r.Corrupt($"tensor '{t.Name}'", "data size overflows");
            }
            _file.CheckRange(DataOffset + t.Offset, t.ByteSize, $"data of tensor '{t.Name}'");
        }
    }

    private GgufValue ReadValue(Cursor r, GgufValueType type, string key)
    {
        if (type != GgufValueType.Array) return new GgufValue(type, ReadScalar(r, type, key));
        var elemType = (GgufValueType)r.U32($"element type of '{key}'");
        var count = r.U64($"length of '{key}'");
        var minElemBytes = elemType switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            _ => throw r.Corrupt(key, $"array element type {(uint)elemType} is not supported"),
        };
        if (count > (ulong)((_file.Length - r.Position) / minElemBytes))
            throw r.Corrupt(key, $"array of {count} elements runs past the end of the file");
        var n = (int)count;
        object arr = elemType switch
        {
            GgufValueType.String => Fill(n, _ => r.Str(key)),
            GgufValueType.Float32 => Fill(n, _ => r.F32(key)),
            GgufValueType.Int32 => Fill(n, _ => (int)r.U32(key)),
            GgufValueType.UInt32 => Fill(n, _ => r.U32(key)),
            GgufValueType.UInt8 => Fill(n, _ => r.U8(key)),
            GgufValueType.Int8 => Fill(n, _ => (sbyte)r.U8(key)),
            GgufValueType.Bool => Fill(n, _ => r.U8(key) != 0),
            GgufValueType.UInt16 => Fill(n, _ => r.U16(key)),
            GgufValueType.Int16 => Fill(n, _ => (short)r.U16(key)),
            GgufValueType.UInt64 => Fill(n, _ => r.U64(key)),
            GgufValueType.Int64 => Fill(n, _ => (long)r.U64(key)),
            GgufValueType.Float64 => Fill(n, _ => BitConverter.Int64BitsToDouble((long)r.U64(key))),
            _ => throw r.Corrupt(key, "nested arrays are not supported"),
        };
        return new GgufValue(GgufValueType.Array, arr, elemType);
    }

    private static T[] Fill<T>(int n, Func<int, T> read)
    {
        var a = new T[n];
        for (var i = 0; i < n; i++) a[i] = read(i);
        return a;
    }

    private static object ReadScalar(Cursor r, GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => r.U8(key),
        GgufValueType.Int8 => (sbyte)r.U8(key),
        GgufValueType.UInt16 => r.U16(key),
        GgufValueType.Int16 => (short)r.U16(key),
        GgufValueType.UInt32 => r.U32(key),
        GgufValueType.Int32 => (int)r.U32(key),
        GgufValueType.Float32 => r.F32(key),
        GgufValueType.Bool => r.U8(key) switch
        {
            0 => false,
            1 => true,
            var b => throw r.Corrupt(key, $"bool value {b} is neither 0 nor 1"),
        },
        GgufValueType.String => r.Str(key),
        GgufValueType.UInt64 => r.U64(key),
        GgufValueType.Int64 => (long)r.U64(key),
        GgufValueType.Float64 => BitConverter.Int64BitsToDouble((long)r.U64(key)),
        _ => throw r.Corrupt(key, $"unknown value type {(uint)type}"),
    };

    /// <summary>Little-endian reads with bounds checks that name the field being read.</summary>
    private sealed class Cursor(MappedFile file)
    {
        public long Position { get; private set; }

        private ReadOnlySpan<byte> Take(int n, string what)
        {
            if (n > file.Length - Position)
                throw Corrupt(what, $"needs {n} bytes at offset {Position} but the file ends at {file.Length} (truncated?)");
            var s = file.Span(Position, n);
            Position += n;
            return s;
        }

        public byte U8(string what) => Take(1, what)[0];
        public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));
        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));
        public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));
        public float F32(string what) => BinaryPrimitives.ReadSingleLittleEndian(Take(4, what));

        public string Str(string what)
        {
            var len = U64(what);
            if (len > int.MaxValue || len > (ulong)(file.Length - Position)) throw Corrupt(what, $"string of {len} bytes runs past the end of the file");
            return Encoding.UTF8.GetString(Take((int)len, what));
        }

        public InvalidDataException Corrupt(string what, string problem) => new($"{file.Path}: GGUF {Printable(what)}: {problem}");
    }

    /// <summary>
    /// A key or tensor name read from the file, fit for a one-line message: control characters escaped
    /// (\xNN, undecodable bytes as ?) and cut at 64 characters — a corrupt length can make a "name" of the next kilobytes of the file.
    /// </summary>
    internal static string Printable(string name)
    {
        var sb = new StringBuilder(Math.Min(name.Length, 80));
        foreach (var ch in name)
        {
            if (sb.Length >= 64)
            {
                sb.Append('…');
                break;
            }
            if (ch == '\uFFFD') sb.Append('?');
            else if (char.IsControl(ch)) sb.Append($"\\x{(int)ch:X2}");
            else sb.Append(ch);
        }
        return sb.ToString();
    }
}
