using System.Buffers.Binary;
using System.Text;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// GGUF tensor data must be laid out as ggml's reader requires (gguf.cpp: each tensor's offset is
/// the padded end of the previous one): overlapping, reordered or mis-sized tensors used to load.
/// </summary>
public sealed class GgufTensorLayoutTests : IDisposable
{
    private readonly TempDir _dir = new("gguf-layout");
    private readonly byte[] _bytes;

    public GgufTensorLayoutTests()
    {
        var w = new GgufWriter();
        foreach (var name in new[] { "a", "b", "c" })
            w.AddTensor(name, [8], TensorDType.F32, () => Enumerable.Range(0, 8).Select(i => (float)i).ToArray()); // 32 bytes each
        var path = _dir.File("ok.gguf");
        w.Write(path);
        _bytes = File.ReadAllBytes(path);
        using var g = GgufFile.Open(path);
        Assert.Equal([0L, 32L, 64L], g.Tensors.Select(t => t.Offset));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>Position of a one-letter tensor's info record (its u64 name length) in the file.</summary>
    private int InfoAt(char name)
    {
        var needle = new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, (byte)name, 1, 0, 0, 0 }; // name, n_dims = 1
        var at = _bytes.AsSpan().IndexOf(needle);
        Assert.True(at > 0);
        return at;
    }

    private int OffsetAt(char name) => InfoAt(name) + 9 + 4 + 8 + 4; // name, n_dims, dims[0], type
    private int Dim0At(char name) => InfoAt(name) + 9 + 4;

    private void Fails(byte[] bytes, string tensor, string fragment, string? who = null)
    {
        var path = _dir.File("bad.gguf");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidDataException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains(who ?? $"tensor '{tensor}'", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    private byte[] With(params (int At, ulong Value)[] patches)
    {
        var b = (byte[])_bytes.Clone();
        foreach (var (at, v) in patches) BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(at), v);
        return b;
    }

    [Fact]
    public void Overlapping_tensors_are_refused() =>
        Fails(With((OffsetAt('b'), 0)), "b", "data offset 0, expected 32");

    [Fact]
    public void Tensors_out_of_order_are_refused() =>
        Fails(With((OffsetAt('b'), 64), (OffsetAt('c'), 32)), "b", "data offset 64, expected 32");

    [Fact]
    public void A_size_from_type_and_dims_that_disagrees_with_the_gap_is_refused() =>
        // 'a' claims 16 floats (64 bytes) but 'b' starts 32 bytes in: they would overlap.
        Fails(With((Dim0At('a'), 16)), "b", "the previous tensor 'a' is F32 [16] = 64 bytes");

    [Fact]
    public void A_misaligned_offset_is_refused() =>
        Fails(With((OffsetAt('b'), 33)), "b", "not aligned", who: "GGUF b:");

    [Fact]
    public void Real_files_keep_loading()
    {
        using var g = GgufFile.Open(SharedData.Stories260KGguf);
        Assert.NotEmpty(g.Tensors);
        Assert.Equal(Encoding.ASCII.GetBytes("GGUF"), _bytes[..4]);
    }
}
