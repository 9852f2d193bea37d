using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace AwqRuntime.Fuzz;

/// <summary>
/// Known bad inputs, each once a defect (an overflow, an out-of-memory crash, garbage loaded silently, a
/// BCL message naming nothing), kept as fixed cases that run before the random ones on every run.
/// <paramref name="MustReject"/>: the input has to be refused, not merely handled without a crash.
/// </summary>
public sealed record Regression(string Name, string Target, string File, Func<byte[], byte[]> Edit, bool MustReject);

public static class Regressions
{
    public static IReadOnlyList<Regression> All { get; } =
    [
        new("GGUF context_length 2^31-1 (KV cache sizing overflowed)", "gguf", "model.gguf", b => SetGguf(b, "llama.context_length", int.MaxValue), false),
        new("GGUF context_length 2^24 in a 1 MB file (asked for 20 GiB up front)", "gguf", "model.gguf", b => SetGguf(b, "llama.context_length", 1 << 24), false),
        new("llama2.c seq_len 2^31-1", "llama2c", "model.bin", b => SetInt32(b, 24, int.MaxValue), false),
        new("config.json max_position_embeddings 2^31-1", "hf", "config.json", b => SetJson(b, "max_position_embeddings", int.MaxValue), false),
        new("tokenizer.json vocab id 2^31-1 (vocabulary count wrapped negative)", "hf", "tokenizer.json", VocabIdMax, true),
        new("tokenizer.json added_tokens id 2^31-1", "hf", "tokenizer.json", AddedTokenIdMax, true),
        new("invalid UTF-8 in config.json", "hf", "config.json", b => InvalidUtf8After(b, "\"model_type\": \""), true),
        new("invalid UTF-8 in tokenizer.json", "hf", "tokenizer.json", b => InvalidUtf8After(b, "\"type\": \""), true),
        new("invalid UTF-8 in quantization_config", "awq", "config.json", b => InvalidUtf8After(b, "\"quant_method\": \""), true),
        new("GGUF tensor at another tensor's offset", "gguf", "model.gguf", b => CopyOffset(b, swap: false), true),
        new("GGUF two tensors' offsets swapped", "gguf", "model.gguf", b => CopyOffset(b, swap: true), true),
        new("GGUF F32 tensor retyped F16 (smaller range still fits)", "gguf", "model.gguf", RetypeF32AsF16, true),
        new("NaN in a safetensors weight", "hf", "model.safetensors", NanInFirstWeight, true),
        new("duplicate key in config.json", "hf", "config.json", b => DuplicateKey(b, "hidden_size"), true),
        new("quantization_config quant_method 7", "awq", "config.json", b => SetQuantization(b, "quant_method", 7), true),
        new("quantization_config bits 9", "awq", "config.json", b => SetQuantization(b, "bits", 9), true),
        new("a text file as the llama2.c model", "llama2c", "model.bin", _ => Encoding.UTF8.GetBytes("Once upon a time there was a model file.\n"), true),
        new("a tokenizer.bin as the llama2.c model", "llama2c", "model.bin", _ => TokenizerBytes(), true),
        new("tokenizer.json nested 100,000 deep", "hf", "tokenizer.json", _ => Encoding.UTF8.GetBytes(new string('[', 100_000) + new string(']', 100_000)), true),
        // Found by this fuzzer:
        new("invalid UTF-8 in the safetensors index (a bare BCL transcoding message)", "hf-sharded", "model.safetensors.index.json",
            b => InvalidUtf8InFirstKeyOf(b, "\"weight_map\""), true),
        new("a broken literal in generation_config.json (the message quoted the rest of the file)", "hf", "generation_config.json", BreakFirstLiteral, true),
        new("GGUF tensor name length 4096 (the message printed the next 4 KB of the file)", "gguf", "model.gguf",
            b => SetGgufFirst(b, "tensor name length", 4096), true),
    ];

    /// <summary>Set by the runner: the llama2c target's tokenizer.bin bytes (for "a tokenizer as the model").</summary>
    internal static byte[] Tokenizer { get; set; } = [];

    private static byte[] TokenizerBytes() => Tokenizer;

    private static BinaryField GgufField(byte[] b, string label) =>
        GgufFieldMap.Map(b).FirstOrDefault(f => f.Label == label) ?? throw new InvalidOperationException($"seed GGUF has no field '{label}'");

    private static byte[] SetGguf(byte[] b, string key, long value)
    {
        var copy = (byte[])b.Clone();
        ByteMutator.Write(copy, GgufField(copy, key), value);
        return copy;
    }

    private static byte[] SetGgufFirst(byte[] b, string label, long value)
    {
        var copy = (byte[])b.Clone();
        var field = GgufFieldMap.Map(copy).FirstOrDefault(f => f.Label == label) ?? throw new InvalidOperationException($"seed GGUF has no field '{label}'");
        ByteMutator.Write(copy, field, value);
        return copy;
    }

    /// <summary>"true"/"false" → "tr{ue": System.Text.Json's message then quotes everything up to the end of the file.</summary>
    private static byte[] BreakFirstLiteral(byte[] b)
    {
        var text = Encoding.UTF8.GetString(b);
        var at = text.IndexOf("true", StringComparison.Ordinal) is >= 0 and var t ? t : text.IndexOf("false", StringComparison.Ordinal);
        if (at < 0) throw new InvalidOperationException("seed has no true/false literal");
        return Encoding.UTF8.GetBytes(text.Insert(at + 2, "{"));
    }

    private static byte[] SetInt32(byte[] b, int pos, int value)
    {
        var copy = (byte[])b.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(pos), value);
        return copy;
    }

    private static List<BinaryField> Offsets(byte[] b) => GgufFieldMap.Map(b).Where(f => f.Role == FieldRole.Offset).ToList();

    private static byte[] CopyOffset(byte[] b, bool swap)
    {
        var copy = (byte[])b.Clone();
        var offsets = Offsets(copy);
        var (x, y) = (offsets[0], offsets[1]);
        var (vx, vy) = (ByteMutator.Read(copy, x), ByteMutator.Read(copy, y));
        ByteMutator.Write(copy, y, vx);
        if (swap) ByteMutator.Write(copy, x, vy);
        return copy;
    }

    private static byte[] RetypeF32AsF16(byte[] b)
    {
        var copy = (byte[])b.Clone();
        var type = GgufFieldMap.Map(copy).First(f => f.Label.EndsWith(" ggml type", StringComparison.Ordinal) && ByteMutator.Read(copy, f) == 0);
        ByteMutator.Write(copy, type, 1);
        return copy;
    }

    private static byte[] SetJson(byte[] b, string key, long value)
    {
        var root = JsonNode.Parse(b)!.AsObject();
        if (!root.ContainsKey(key)) throw new InvalidOperationException($"seed config has no '{key}'");
        root[key] = value;
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static byte[] SetQuantization(byte[] b, string key, long value)
    {
        var root = JsonNode.Parse(b)!.AsObject();
        var q = root["quantization_config"]?.AsObject() ?? throw new InvalidOperationException("seed config has no quantization_config");
        if (!q.ContainsKey(key)) throw new InvalidOperationException($"seed quantization_config has no '{key}'");
        q[key] = value;
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static byte[] VocabIdMax(byte[] b)
    {
        var root = JsonNode.Parse(b)!.AsObject();
        var vocab = root["model"]!["vocab"]!.AsObject();
        var first = vocab.First().Key;
        vocab[first] = int.MaxValue;
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static byte[] AddedTokenIdMax(byte[] b)
    {
        var root = JsonNode.Parse(b)!.AsObject();
        var added = root["added_tokens"]?.AsArray() is { Count: > 0 } a ? a : throw new InvalidOperationException("seed tokenizer.json has no added_tokens");
        added[0]!["id"] = int.MaxValue;
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static byte[] InvalidUtf8After(byte[] b, string marker)
    {
        var text = Encoding.UTF8.GetString(b);
        var at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0)
        {
            marker = marker.Replace(": ", ":", StringComparison.Ordinal);
            at = text.IndexOf(marker, StringComparison.Ordinal);
        }
        if (at < 0) throw new InvalidOperationException($"seed has no {marker}");
        var pos = Encoding.UTF8.GetByteCount(text[..(at + marker.Length)]);
        return [.. b.AsSpan(0, pos), 0xC3, 0x28, .. b.AsSpan(pos)];
    }

    /// <summary>Invalid UTF-8 at the start of the first key of the object that follows <paramref name="key"/>.</summary>
    private static byte[] InvalidUtf8InFirstKeyOf(byte[] b, string key)
    {
        var at = b.AsSpan().IndexOf(Encoding.UTF8.GetBytes(key));
        if (at < 0) throw new InvalidOperationException($"seed has no {key}");
        var brace = Array.IndexOf(b, (byte)'{', at);
        var quote = Array.IndexOf(b, (byte)'"', brace);
        return [.. b.AsSpan(0, quote + 1), 0xC3, 0x28, .. b.AsSpan(quote + 1)];
    }

    private static byte[] DuplicateKey(byte[] b, string key)
    {
        var text = Encoding.UTF8.GetString(b);
        var brace = text.IndexOf('{', StringComparison.Ordinal);
        return Encoding.UTF8.GetBytes(text.Insert(brace + 1, $"\"{key}\": 12345, "));
    }

    /// <summary>A NaN over the first element of the tensor stored first in the data section (a weight), in that tensor's dtype.</summary>
    private static byte[] NanInFirstWeight(byte[] b)
    {
        var copy = (byte[])b.Clone();
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(copy);
        var header = JsonNode.Parse(copy.AsSpan(8, n).ToArray())!.AsObject();
        var first = header.Where(kv => kv.Key != "__metadata__").First(kv => (long)kv.Value!["data_offsets"]![0]! == 0).Value!;
        var at = copy.AsSpan(8 + n);
        switch ((string)first["dtype"]!)
        {
            case "F16": BinaryPrimitives.WriteUInt16LittleEndian(at, 0x7E00); break;
            case "BF16": BinaryPrimitives.WriteUInt16LittleEndian(at, 0x7FC0); break;
            case "F32": BinaryPrimitives.WriteUInt32LittleEndian(at, 0x7FC00000); break;
            case var d: throw new InvalidOperationException($"seed's first tensor is {d}, not a float");
        }
        return copy;
    }
}
