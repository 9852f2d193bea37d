using System.Text;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Reads only the tensor table of a GGUF file (skipping the metadata values), to report which ggml
/// type llama.cpp gave each tensor. Deliberately minimal and private to the llama.cpp adapter; the
/// project's full GGUF reader/writer lives in AwqRuntime.Formats. Every length is checked against the
/// file size before it is used, so a corrupt file gives an <see cref="InvalidDataException"/>.
/// </summary>
public static class GgufTensorTable
{
    private const int MaxDims = 4;         // GGML_MAX_DIMS
    private const int MaxNestedArrays = 8; // GGUF allows arrays of arrays; real files use none
    private const int MaxNameBytes = 1 << 16;

    public static IReadOnlyList<GgufTensorInfo> Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var reader = new Reader(stream, path);

        if (reader.U32() != 0x46554747) // "GGUF" little-endian
            throw reader.Error("not a GGUF file (bad magic)");
        var version = reader.U32();
        if (version is not (2 or 3))
            throw reader.Error($"unsupported GGUF version {version} (2 and 3 are readable)");
        var tensorCount = reader.Count(minBytesPerItem: 24, "tensor count");
        var kvCount = reader.Count(minBytesPerItem: 12, "metadata count");

        for (long i = 0; i < kvCount; i++)
        {
            reader.SkipString(); // key
            reader.SkipValue(reader.U32(), depth: 0);
        }

        var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 1 << 20));
        for (long i = 0; i < tensorCount; i++)
        {
            var name = reader.String(MaxNameBytes);
            var dimCount = reader.U32();
            if (dimCount is 0 or > MaxDims)
                throw reader.Error($"tensor '{name}' has {dimCount} dimensions (1..{MaxDims} allowed)");
            var dims = new long[dimCount];
            for (var d = 0; d < dims.Length; d++)
            {
                var dim = reader.U64();
                if (dim == 0 || dim > long.MaxValue) throw reader.Error($"tensor '{name}' has dimension {d} = {dim}");
                dims[d] = (long)dim;
            }
            var type = reader.U32();
            if (type > int.MaxValue) throw reader.Error($"tensor '{name}' has type id {type}");
            tensors.Add(new GgufTensorInfo(name, (int)type, dims, reader.U64()));
        }
        return tensors;
    }

    private sealed class Reader(FileStream stream, string path)
    {
        private readonly BinaryReader _binary = new(stream, Encoding.UTF8, leaveOpen: true);

        private long Remaining => stream.Length - stream.Position;

        public InvalidDataException Error(string what) => new($"{path}: {what} (at byte {stream.Position})");

        public uint U32()
        {
            Need(4);
            return _binary.ReadUInt32();
        }

        public ulong U64()
        {
            Need(8);
            return _binary.ReadUInt64();
        }

        /// <summary>A uint64 item count, rejected when the rest of the file cannot hold that many items.</summary>
        public long Count(int minBytesPerItem, string what)
        {
            var count = U64();
            if (count > (ulong)(Remaining / minBytesPerItem)) throw Error($"{what} {count} does not fit in the file");
            return (long)count;
        }

        public string String(int maxBytes)
        {
            var length = U64();
            if (length > (ulong)maxBytes) throw Error($"string of {length} bytes (at most {maxBytes} expected)");
            Need((long)length);
            return Encoding.UTF8.GetString(_binary.ReadBytes((int)length));
        }

        public void SkipString() => Skip(U64());

        public void SkipValue(uint type, int depth)
        {
            switch (type)
            {
                case 0 or 1 or 7: Skip(1); break;          // u8, i8, bool
                case 2 or 3: Skip(2); break;               // u16, i16
                case 4 or 5 or 6: Skip(4); break;          // u32, i32, f32
                case 10 or 11 or 12: Skip(8); break;       // u64, i64, f64
                case 8: SkipString(); break;
                case 9:
                    if (depth >= MaxNestedArrays) throw Error("metadata arrays nested too deeply");
                    var elementType = U32();
                    var count = U64();
                    var fixedSize = FixedSize(elementType);
                    if (fixedSize > 0)
                    {
                        if (count > (ulong)(Remaining / fixedSize)) throw Error($"array of {count} elements does not fit in the file");
                        Skip(count * (ulong)fixedSize);
                    }
                    else
                    {
                        // Each string/array element needs at least its 8-byte length.
                        if (count > (ulong)(Remaining / 8)) throw Error($"array of {count} elements does not fit in the file");
                        for (ulong i = 0; i < count; i++) SkipValue(elementType, depth + 1);
                    }
                    break;
                default: throw Error($"unknown metadata value type {type}");
            }
        }

        private int FixedSize(uint type) => type switch
        {
            0 or 1 or 7 => 1,
            2 or 3 => 2,
            4 or 5 or 6 => 4,
            10 or 11 or 12 => 8,
            8 or 9 => 0,
            _ => throw Error($"unknown metadata value type {type}"),
        };

        private void Skip(ulong bytes)
        {
            if (bytes > (ulong)Remaining) throw Error($"value of {bytes} bytes runs past the end of the file");
            stream.Seek((long)bytes, SeekOrigin.Current);
        }

        private void Need(long bytes)
        {
            if (bytes > Remaining) throw Error("unexpected end of file");
        }
    }
}
