using System.Text;

namespace AwqRuntime.Formats.Gguf;

/// <summary>
/// Writes a GGUF v3 file (ggml docs/gguf.md, src/gguf.cpp): header, metadata KVs
/// with exactly the types given, tensor infos with dims innermost-first, zero padding to the
/// alignment, then each tensor's data padded to the alignment, in info order, so every offset is
/// the running padded total (the rule gguf.cpp's reader enforces). The alignment is
/// general.alignment when that key is added (a power-of-two UINT32), else 32.
/// Tensor data is produced lazily, one tensor at a time, when <see cref="Write"/> reaches it, so a
/// model is never held in memory whole. Output goes to a temp file renamed onto the target.
/// </summary>
public sealed class GgufWriter
{
    public const uint Version = 3;
    public const int DefaultAlignment = 32;
    private const int MaxNameBytes = 63; // GGML_MAX_NAME - 1

    private readonly List<(string Key, GgufValue Value)> _metadata = [];
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly List<PendingTensor> _tensors = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    private sealed record PendingTensor(string Name, long[] Shape, TensorDType Type, long ByteSize, Func<ReadOnlyMemory<byte>> Bytes);

    public IReadOnlyList<(string Key, GgufValue Value)> Metadata => _metadata;

    public int Alignment { get; private set; } = DefaultAlignment;

    /// <summary>Adds a metadata key; the value's CLR type must match its declared GGUF type exactly.</summary>
    public GgufWriter Add(string key, GgufValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (string.IsNullOrEmpty(key) || Encoding.UTF8.GetByteCount(key) > ushort.MaxValue)
            throw new ArgumentException($"GGUF metadata key '{key}' must be 1..65535 bytes", nameof(key));
        if (!_keys.Add(key)) throw new ArgumentException($"GGUF metadata key '{key}' added twice", nameof(key));
        CheckValue(key, value);
        if (key == "general.alignment")
        {
            if (value.Value is not uint a || a == 0 || (a & (a - 1)) != 0)
                throw new ArgumentException($"general.alignment must be a power-of-two UINT32 (got {value.Type} {value.Value})", nameof(value));
            if (_tensors.Count > 0) throw new InvalidOperationException("add general.alignment before any tensor");
            Alignment = (int)a;
        }
        _metadata.Add((key, value));
        return this;
    }

    /// <summary>Adds a tensor given as fp32 (row-major <paramref name="shape"/>, e.g. [out, in]) to be encoded as F32, F16, BF16 or Q8_0.</summary>
    public GgufWriter AddTensor(string name, long[] shape, TensorDType type, Func<float[]> data)
    {
        if (!TensorConversion.CanEncode(type)) throw new ArgumentException($"tensor '{name}': cannot encode fp32 as {type} (F32, F16, BF16, Q8_0)", nameof(type));
        var size = CheckTensor(name, shape, type);
        var elements = shape.Aggregate(1L, (a, d) => a * d);
        _tensors.Add(new PendingTensor(name, (long[])shape.Clone(), type, size, () =>
        {
            var values = data();
            if (values.Length != elements) throw new ArgumentException($"tensor '{name}': got {values.Length} values for shape [{string.Join(", ", shape)}]");
            var bytes = new byte[size];
            TensorConversion.FromFloat32(type, values, bytes);
            return bytes;
        }));
        return this;
    }

    /// <summary>Adds a tensor whose bytes are already in <paramref name="type"/>'s ggml encoding (e.g. Q4_1 blocks).</summary>
    public GgufWriter AddTensorBytes(string name, long[] shape, TensorDType type, Func<ReadOnlyMemory<byte>> bytes)
    {
        var size = CheckTensor(name, shape, type);
        _tensors.Add(new PendingTensor(name, (long[])shape.Clone(), type, size, bytes));
        return this;
    }

    /// <summary>Writes everything to <paramref name="path"/> (temp file + rename).</summary>
    public void Write(string path)
    {
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var w = new BinaryWriter(fs, Encoding.UTF8, leaveOpen: true))
            {
                w.Write("GGUF"u8);
                w.Write(Version);
                w.Write((ulong)_tensors.Count);
                w.Write((ulong)_metadata.Count);
                foreach (var (key, value) in _metadata)
                {
                    WriteString(w, key);
                    w.Write((uint)value.Type);
                    WriteValue(w, value);
                }
                long offset = 0;
                foreach (var t in _tensors)
                {
                    WriteString(w, t.Name);
                    w.Write((uint)t.Shape.Length);
                    for (var d = t.Shape.Length - 1; d >= 0; d--) w.Write((ulong)t.Shape[d]);
                    w.Write((uint)t.Type);
                    w.Write((ulong)offset);
                    offset += Pad(t.ByteSize);
                }
                w.Flush();
                WriteZeros(fs, Pad(fs.Position) - fs.Position);
                foreach (var t in _tensors)
                {
                    var bytes = t.Bytes();
                    if (bytes.Length != t.ByteSize)
                        throw new ArgumentException($"tensor '{t.Name}': got {bytes.Length} bytes, {t.Type} [{string.Join(", ", t.Shape)}] needs {t.ByteSize}");
                    fs.Write(bytes.Span);
                    WriteZeros(fs, Pad(t.ByteSize) - t.ByteSize);
                }
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private long Pad(long n) => (n + Alignment - 1) / Alignment * Alignment;

    private static void WriteZeros(Stream s, long n)
    {
        Span<byte> zeros = stackalloc byte[256];
        zeros.Clear();
        while (n > 0)
        {
            var k = (int)Math.Min(n, zeros.Length);
            s.Write(zeros[..k]);
            n -= k;
        }
    }

    private long CheckTensor(string name, long[] shape, TensorDType type)
    {
        if (string.IsNullOrEmpty(name) || Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            throw new ArgumentException($"GGUF tensor name '{name}' must be 1..{MaxNameBytes} bytes", nameof(name));
        if (!_names.Add(name)) throw new ArgumentException($"GGUF tensor '{name}' added twice", nameof(name));
        if (shape.Length is 0 or > 4 || shape.Any(d => d <= 0))
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] must have 1..4 positive dimensions", nameof(shape));
        if (!TensorDTypeInfo.TryGetBlock(type, out var be, out _) || (int)type >= 1000)
            throw new ArgumentException($"tensor '{name}': {type} is not a ggml type", nameof(type));
        if (shape[^1] % be != 0)
            throw new ArgumentException($"tensor '{name}': row length {shape[^1]} is not a multiple of {type}'s block size {be}", nameof(shape));
        var rows = shape[..^1].Aggregate(1L, (a, d) => checked(a * d));
        return checked(rows * TensorDTypeInfo.RowBytes(type, shape[^1]));
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static void CheckValue(string key, GgufValue v)
    {
        if (v.Type == GgufValueType.Array)
        {
            if (v.ElementType == GgufValueType.Array) throw new ArgumentException($"GGUF key '{key}': nested arrays are not supported");
            var expected = ClrType(v.ElementType).MakeArrayType();
            if (v.Value.GetType() != expected)
                throw new ArgumentException($"GGUF key '{key}': array of {v.ElementType} needs a {expected.Name}, got {v.Value.GetType().Name}");
            if (v.Value is string[] strings && strings.Any(s => s is null)) throw new ArgumentException($"GGUF key '{key}': null string in array");
            return;
        }
        if (v.Value.GetType() != ClrType(v.Type))
            throw new ArgumentException($"GGUF key '{key}': type {v.Type} needs a {ClrType(v.Type).Name}, got {v.Value.GetType().Name}");
    }

    private static Type ClrType(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => typeof(byte), GgufValueType.Int8 => typeof(sbyte),
        GgufValueType.UInt16 => typeof(ushort), GgufValueType.Int16 => typeof(short),
        GgufValueType.UInt32 => typeof(uint), GgufValueType.Int32 => typeof(int),
        GgufValueType.Float32 => typeof(float), GgufValueType.Bool => typeof(bool),
        GgufValueType.String => typeof(string), GgufValueType.UInt64 => typeof(ulong),
        GgufValueType.Int64 => typeof(long), GgufValueType.Float64 => typeof(double),
        _ => throw new ArgumentException($"unknown GGUF value type {(uint)t}"),
    };

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        if (v.Type != GgufValueType.Array)
        {
            WriteScalar(w, v.Value);
            return;
        }
        var arr = (Array)v.Value;
        w.Write((uint)v.ElementType);
        w.Write((ulong)arr.Length);
        foreach (var x in arr) WriteScalar(w, x!);
    }

    private static void WriteScalar(BinaryWriter w, object value)
    {
        switch (value)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            default: throw new ArgumentException($"cannot write a {value.GetType().Name} as a GGUF value");
        }
    }
}
