using System.Buffers.Binary;

namespace AwqRuntime.Fuzz;

/// <summary>
/// A safetensors file (huggingface/safetensors: u64 header length N, N bytes of JSON, then the data):
/// most cases mutate the JSON header as JSON and re-frame it (so offsets, dtypes and shapes are what
/// break, not the framing); some change the length prefix; the rest are byte mutations of the whole file.
/// </summary>
public static class SafetensorsMutator
{
    public static (byte[] Bytes, string Edit) Mutate(byte[] b, Random rng)
    {
        if (b.Length < 8) return ByteMutator.Mutate(b, rng, null);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(b);
        if (n > (ulong)(b.Length - 8)) return ByteMutator.Mutate(b, rng, null);
        var header = b.AsSpan(8, (int)n).ToArray();
        var data = b.AsSpan(8 + (int)n);
        var roll = rng.Next(10);
        if (roll < 6)
        {
            var (json, edit) = JsonMutator.Mutate(header, rng);
            var framed = new byte[8 + json.Length + data.Length];
            BinaryPrimitives.WriteUInt64LittleEndian(framed, (ulong)json.Length);
            json.CopyTo(framed, 8);
            data.CopyTo(framed.AsSpan(8 + json.Length));
            return (framed, $"header: {edit}");
        }
        if (roll < 7)
        {
            var f = new BinaryField(0, 8, FieldRole.Count, "header length");
            var v = ByteMutator.InterestingFor(FieldRole.Count, (long)n, rng);
            var copy = (byte[])b.Clone();
            ByteMutator.Write(copy, f, v);
            return (copy, $"header length {n} -> {v}");
        }
        return ByteMutator.Mutate(b, rng, [new BinaryField(0, 8, FieldRole.Count, "header length")]);
    }
}
