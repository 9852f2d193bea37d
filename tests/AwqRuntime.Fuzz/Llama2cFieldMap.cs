using System.Buffers.Binary;

namespace AwqRuntime.Fuzz;

/// <summary>
/// The integer fields of llama2.c's files (karpathy/llama2.c run.c): a checkpoint's Config header
/// (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len as int32; a negative vocab_size
/// means an untied classifier), and a tokenizer.bin's max_token_length then (float score, int32 length, bytes) per token.
/// </summary>
public static class Llama2cFieldMap
{
    private static readonly string[] ConfigFields = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];

    public static IReadOnlyList<BinaryField> Model(byte[] b) =>
        ConfigFields.Select((name, i) => new BinaryField(4 * i, 4, FieldRole.Dimension, name)).Where(f => f.Pos + 4 <= b.Length).ToList();

    public static IReadOnlyList<BinaryField> Tokenizer(byte[] b)
    {
        var fields = new List<BinaryField> { new(0, 4, FieldRole.Count, "max_token_length") };
        long pos = 4;
        for (var i = 0; pos + 8 <= b.Length; i++)
        {
            var at = (int)pos;
            fields.Add(new BinaryField(at, 4, FieldRole.Value, $"score[{i}]"));
            fields.Add(new BinaryField(at + 4, 4, FieldRole.Count, $"length[{i}]"));
            var len = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at + 4));
            if (len < 0) break; // a mutated length: stop mapping
            pos += 8L + len;
        }
        return fields;
    }
}
