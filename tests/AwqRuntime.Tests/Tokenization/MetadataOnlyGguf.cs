using System.Text;
using AwqRuntime.Formats.Gguf;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>
/// Writes a GGUF v3 file with metadata and no tensors (a "vocab-only" file like llama.cpp's
/// ggml-vocab-*.gguf), so metadata dictionaries can be read back through the real GgufFile reader.
/// </summary>
internal static class MetadataOnlyGguf
{
    public static void Write(string path, IReadOnlyDictionary<string, GgufValue> metadata)
    {
        using var w = new BinaryWriter(File.Create(path), Encoding.UTF8);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write(0UL);
        w.Write((ulong)metadata.Count);
        foreach (var (key, value) in metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            if (value.Type == GgufValueType.Array)
            {
                w.Write((uint)value.ElementType);
                var array = (Array)value.Value;
                w.Write((ulong)array.Length);
                foreach (var item in array) WriteScalar(w, value.ElementType, item!);
            }
            else WriteScalar(w, value.Type, value.Value);
        }
    }

    private static void WriteScalar(BinaryWriter w, GgufValueType type, object v)
    {
        switch (type)
        {
            case GgufValueType.String: WriteString(w, (string)v); break;
            case GgufValueType.UInt32: w.Write((uint)v); break;
            case GgufValueType.Int32: w.Write((int)v); break;
            case GgufValueType.Float32: w.Write((float)v); break;
            case GgufValueType.Bool: w.Write((bool)v ? (byte)1 : (byte)0); break;
            case GgufValueType.UInt64: w.Write((ulong)v); break;
            default: throw new NotSupportedException(type.ToString());
        }
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
