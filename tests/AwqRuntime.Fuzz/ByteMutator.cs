using System.Buffers.Binary;

namespace AwqRuntime.Fuzz;

/// <summary>
/// Byte-level mutations in the spirit of AFL's havoc stage (bit flips, interesting integers, block
/// deletion/duplication, truncation), plus field mutations where a <see cref="BinaryField"/> map is known
/// and float poisoning (NaN/Inf) of weight bytes. Positions lean towards the header, where parsing happens.
/// </summary>
public static class ByteMutator
{
    private static readonly long[] Interesting64 =
    [
        0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 4096, 65535, 65536, 1 << 24,
        int.MaxValue, (long)int.MaxValue + 1, uint.MaxValue, (long)uint.MaxValue + 1, long.MaxValue, long.MinValue, -1, -2, -128,
        1L << 40, 1L << 48, 1L << 62,
    ];

    private static readonly uint[] FloatPoison = [0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu, 0x00000001u];

    public static (byte[] Bytes, string Edit) Mutate(byte[] input, Random rng, IReadOnlyList<BinaryField>? fields)
    {
        var b = (byte[])input.Clone();
        var roll = rng.Next(100);
        if (fields is { Count: > 0 } && roll < 45) return Field(b, rng, fields);
        if (b.Length == 0) return ([(byte)rng.Next(256)], "one random byte");
        return (roll % 9) switch
        {
            0 or 1 => FlipBits(b, rng),
            2 => SetInteger(b, rng),
            3 => Truncate(b, rng),
            4 => DeleteBlock(b, rng),
            5 => DuplicateBlock(b, rng),
            6 => Poison(b, rng),
            7 => SetByte(b, rng),
            _ => Extend(b, rng),
        };
    }

    /// <summary>A position: half the time inside the first 4 KiB (headers), else anywhere.</summary>
    private static int Position(int length, Random rng) => rng.Next(2) == 0 ? rng.Next(Math.Min(length, 4096)) : rng.Next(length);

    public static long InterestingFor(FieldRole role, long current, Random rng) => rng.Next(6) switch
    {
        0 => current + rng.Next(-3, 4),
        1 => current * 2,
        2 when role == FieldRole.Offset => current + 32 * rng.Next(-4, 5),
        2 when role == FieldRole.TypeTag => rng.Next(0, 40),
        3 => -current,
        _ => Interesting64[rng.Next(Interesting64.Length)],
    };

    private static (byte[], string) Field(byte[] b, Random rng, IReadOnlyList<BinaryField> fields)
    {
        var f = fields[rng.Next(fields.Count)];
        if (f.Pos + f.Width > b.Length) return FlipBits(b, rng);
        var current = Read(b, f);
        long value;
        string how;
        var same = fields.Where(o => o.Role == f.Role && o.Width == f.Width && o.Pos != f.Pos && o.Pos + o.Width <= b.Length).ToList();
        if (same.Count > 0 && rng.Next(4) == 0)
        {
            // Copy another field of the same role: two tensors at one offset, swapped dims, a type from elsewhere.
            var other = same[rng.Next(same.Count)];
            value = Read(b, other);
            how = $"= {other.Label}";
        }
        else
        {
            value = InterestingFor(f.Role, current, rng);
            how = "";
        }
        Write(b, f, value);
        return (b, $"field {f.Label} {current} -> {value} {how}".TrimEnd());
    }

    internal static long Read(byte[] b, BinaryField f) => f.Width switch
    {
        1 => b[f.Pos],
        2 => BinaryPrimitives.ReadInt16LittleEndian(b.AsSpan(f.Pos)),
        4 => BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(f.Pos)),
        _ => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(f.Pos)),
    };

    internal static void Write(byte[] b, BinaryField f, long v)
    {
        switch (f.Width)
        {
            case 1: b[f.Pos] = (byte)v; break;
            case 2: BinaryPrimitives.WriteInt16LittleEndian(b.AsSpan(f.Pos), (short)v); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(f.Pos), (int)v); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(f.Pos), v); break;
        }
    }

    private static (byte[], string) FlipBits(byte[] b, Random rng)
    {
        var n = 1 << rng.Next(4);
        var at = Position(b.Length, rng);
        for (var i = 0; i < n; i++)
        {
            var p = Math.Min(b.Length - 1, at + rng.Next(8));
            b[p] ^= (byte)(1 << rng.Next(8));
        }
        return (b, $"{n} bit flips near byte {at}");
    }

    private static (byte[], string) SetByte(byte[] b, Random rng)
    {
        var at = Position(b.Length, rng);
        byte[] values = [0, 1, 0x7F, 0x80, 0xFF, 0x20, 0x22, 0x5C];
        b[at] = values[rng.Next(values.Length)];
        return (b, $"byte {at} = 0x{b[at]:X2}");
    }

    private static (byte[], string) SetInteger(byte[] b, Random rng)
    {
        var width = 1 << rng.Next(1, 4);
        if (b.Length < width) return FlipBits(b, rng);
        var at = Math.Min(Position(b.Length, rng), b.Length - width);
        var f = new BinaryField(at, width, FieldRole.Count, "");
        var value = Interesting64[rng.Next(Interesting64.Length)];
        Write(b, f, value);
        return (b, $"int{width * 8} at byte {at} = {value}");
    }

    private static (byte[], string) Truncate(byte[] b, Random rng)
    {
        var len = Position(b.Length, rng);
        return (b[..len], $"truncated to {len} of {b.Length} bytes");
    }

    private static (byte[], string) Extend(byte[] b, Random rng)
    {
        var extra = new byte[rng.Next(1, 4096)];
        if (rng.Next(2) == 0) rng.NextBytes(extra);
        return ([.. b, .. extra], $"{extra.Length} bytes appended");
    }

    private static (byte[], string) DeleteBlock(byte[] b, Random rng)
    {
        var at = Position(b.Length, rng);
        var len = Math.Min(b.Length - at, 1 + rng.Next(64));
        return ([.. b.AsSpan(0, at), .. b.AsSpan(at + len)], $"{len} bytes deleted at {at}");
    }

    private static (byte[], string) DuplicateBlock(byte[] b, Random rng)
    {
        var at = Position(b.Length, rng);
        var len = Math.Min(b.Length - at, 1 + rng.Next(64));
        return ([.. b.AsSpan(0, at + len), .. b.AsSpan(at, len), .. b.AsSpan(at + len)], $"{len} bytes duplicated at {at}");
    }

    /// <summary>A float32 NaN/Inf/huge/denormal written over an aligned word past the header (weight data).</summary>
    private static (byte[], string) Poison(byte[] b, Random rng)
    {
        if (b.Length < 8) return FlipBits(b, rng);
        var at = (b.Length / 2 + rng.Next(b.Length / 2)) & ~3;
        at = Math.Min(at, b.Length - 4);
        var v = FloatPoison[rng.Next(FloatPoison.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v);
        return (b, $"float32 0x{v:X8} at byte {at}");
    }
}
