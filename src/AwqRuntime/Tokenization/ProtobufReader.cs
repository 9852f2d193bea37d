using System.Buffers.Binary;
using System.Text;

namespace AwqRuntime.Tokenization;

/// <summary>
/// Just enough of the protobuf wire format to read a SentencePiece ModelProto: varints, 32/64-bit
/// fixed fields and length-delimited fields, with every length checked against the bytes left.
/// Unknown fields are skipped; groups (deprecated wire types 3/4) are rejected.
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> data, string source)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    public readonly bool AtEnd => _pos >= _data.Length;

    /// <summary>Reads the next tag; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out int wireType)
    {
        field = wireType = 0;
        if (AtEnd) return false;
        var key = ReadVarint("field key");
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        if (field <= 0 || key >> 3 > int.MaxValue) throw Corrupt($"invalid field number {key >> 3}");
        return true;
    }

    public ulong ReadVarint(string what)
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _data.Length) throw Corrupt($"{what}: varint runs past the end (truncated?)");
            var b = _data[_pos++];
            if (shift == 63 && b > 1) throw Corrupt($"{what}: varint is longer than 64 bits");
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw Corrupt($"{what}: varint is longer than 10 bytes");
    }

    /// <summary>An int32 field (negative values are sign-extended to 10-byte varints on the wire).</summary>
    public int ReadInt32(string what) => unchecked((int)ReadVarint(what));

    public bool ReadBool(string what) => ReadVarint(what) != 0;

    public float ReadFloat(string what)
    {
        if (_data.Length - _pos < 4) throw Corrupt($"{what}: needs 4 bytes, {_data.Length - _pos} left (truncated?)");
        var v = BinaryPrimitives.ReadSingleLittleEndian(_data[_pos..]);
        _pos += 4;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes(string what)
    {
        var len = ReadVarint($"length of {what}");
        if (len > (ulong)(_data.Length - _pos)) throw Corrupt($"{what}: length {len} runs past the end ({_data.Length - _pos} bytes left; truncated?)");
        var s = _data.Slice(_pos, (int)len);
        _pos += (int)len;
        return s;
    }

    public string ReadString(string what)
    {
        var bytes = ReadBytes(what);
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Corrupt($"{what} is not valid UTF-8"); }
    }

    public void Skip(int wireType, int field)
    {
        switch (wireType)
        {
            case Varint: ReadVarint($"field {field}"); break;
            case Fixed64: Advance(8, field); break;
            case LengthDelimited: ReadBytes($"field {field}"); break;
            case Fixed32: Advance(4, field); break;
            default: throw Corrupt($"field {field} has unsupported wire type {wireType}");
        }
    }

    /// <summary>Checks a field's wire type before reading it.</summary>
    public readonly void Expect(int wireType, int expected, string what)
    {
        if (wireType != expected) throw Corrupt($"{what} has wire type {wireType}, expected {expected}");
    }

    private void Advance(int n, int field)
    {
        if (_data.Length - _pos < n) throw Corrupt($"field {field}: needs {n} bytes, {_data.Length - _pos} left (truncated?)");
        _pos += n;
    }

    public readonly InvalidDataException Corrupt(string problem) => new($"{source}: protobuf: {problem}");
}
