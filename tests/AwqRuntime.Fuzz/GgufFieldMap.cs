using System.Buffers.Binary;
using System.Text;

namespace AwqRuntime.Fuzz;

/// <summary>
/// Walks a GGUF header (ggml's gguf.h layout: magic, version u32, tensor count u64, KV count u64;
/// KV = string key, u32 type, value; tensor info = string name, u32 n_dims, u64 dims, u32 type, u64 offset)
/// and lists the byte position of every integer field, so mutations hit fields instead of random bytes.
/// Stops quietly where the bytes stop making sense (the seed is valid; a mutated one is not walked).
/// </summary>
public static class GgufFieldMap
{
    public static IReadOnlyList<BinaryField> Map(byte[] b)
    {
        var fields = new List<BinaryField>();
        try
        {
            fields.Add(new BinaryField(4, 4, FieldRole.Value, "version"));
            fields.Add(new BinaryField(8, 8, FieldRole.Count, "tensor_count"));
            fields.Add(new BinaryField(16, 8, FieldRole.Count, "kv_count"));
            var nTensors = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8));
            var nKv = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16));
            var pos = 24;
            for (long i = 0; i < nKv && pos < b.Length; i++)
            {
                var key = ReadString(b, ref pos, fields, "key length");
                fields.Add(new BinaryField(pos, 4, FieldRole.TypeTag, $"{key} type"));
                var type = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
                pos += 4;
                SkipValue(b, ref pos, type, key, fields);
            }
            for (long i = 0; i < nTensors && pos < b.Length; i++)
            {
                var name = ReadString(b, ref pos, fields, "tensor name length");
                fields.Add(new BinaryField(pos, 4, FieldRole.Count, $"{name} n_dims"));
                var nDims = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
                pos += 4;
                for (var d = 0; d < nDims && pos < b.Length; d++, pos += 8) fields.Add(new BinaryField(pos, 8, FieldRole.Dimension, $"{name} dim {d}"));
                fields.Add(new BinaryField(pos, 4, FieldRole.TypeTag, $"{name} ggml type"));
                pos += 4;
                fields.Add(new BinaryField(pos, 8, FieldRole.Offset, $"{name} offset"));
                pos += 8;
            }
        }
        catch (Exception e) when (e is ArgumentException or OverflowException)
        {
            // ran off the end: keep what was mapped
        }
        return fields;
    }

    private static string ReadString(byte[] b, ref int pos, List<BinaryField> fields, string label)
    {
        fields.Add(new BinaryField(pos, 8, FieldRole.Count, label));
        var len = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos)));
        // Labels repeat the name per field: cap it, or a mutated length makes every label a copy of the file.
        var s = Encoding.UTF8.GetString(b, pos + 8, Math.Min(len, 64));
        pos = checked(pos + 8 + len);
        return s;
    }

    private static void SkipValue(byte[] b, ref int pos, uint type, string key, List<BinaryField> fields)
    {
        switch (type)
        {
            case 0 or 1 or 7: fields.Add(new BinaryField(pos, 1, FieldRole.Value, key)); pos += 1; break;
            case 2 or 3: fields.Add(new BinaryField(pos, 2, FieldRole.Value, key)); pos += 2; break;
            case 4 or 5 or 6: fields.Add(new BinaryField(pos, 4, Role(key), key)); pos += 4; break;
            case 10 or 11 or 12: fields.Add(new BinaryField(pos, 8, Role(key), key)); pos += 8; break;
            case 8: ReadString(b, ref pos, fields, $"{key} length"); break;
            case 9:
                fields.Add(new BinaryField(pos, 4, FieldRole.TypeTag, $"{key} element type"));
                var element = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
                fields.Add(new BinaryField(pos + 4, 8, FieldRole.Count, $"{key} count"));
                var count = (long)BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(pos + 4));
                if (count < 0 || count > b.Length) throw new ArgumentOutOfRangeException(nameof(b)); // a mutated count: stop mapping
                pos += 12;
                // Map the first few elements of an array as fields (token lengths, scores, types); skip the rest.
                for (long i = 0; i < count; i++)
                {
                    var before = fields.Count;
                    SkipValue(b, ref pos, element, $"{key}[{i}]", fields);
                    if (i >= 8) fields.RemoveRange(before, fields.Count - before);
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    /// <summary>Size-like metadata (context_length, embedding_length, block_count, head counts, vocab ids) gets dimension values.</summary>
    private static FieldRole Role(string key) =>
        key.EndsWith("_length", StringComparison.Ordinal) || key.EndsWith("_count", StringComparison.Ordinal) ||
        key.Contains("head_count", StringComparison.Ordinal) || key.EndsWith("_id", StringComparison.Ordinal) ||
        key.EndsWith("alignment", StringComparison.Ordinal)
            ? FieldRole.Dimension
            : FieldRole.Value;
}
