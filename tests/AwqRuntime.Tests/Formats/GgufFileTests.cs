using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;

namespace AwqRuntime.Tests.Formats;

public class GgufFileTests
{
    [Fact]
    public void Reads_stories260K_header_metadata_and_tensor_table()
    {
        using var g = GgufFile.Open(SharedData.Stories260KGguf);
        Assert.Equal(3u, g.Version);
        Assert.Equal("llama", g.GetString("general.architecture"));
        Assert.Equal(64, g.GetInteger("llama.embedding_length"));
        Assert.Equal(5, g.GetInteger("llama.block_count"));
        Assert.Equal(8, g.GetInteger("llama.attention.head_count"));
        Assert.Equal(4, g.GetInteger("llama.attention.head_count_kv"));
        Assert.Equal(512, g.GetArray<string>("tokenizer.ggml.tokens").Length);
        Assert.Equal(48, g.Tensors.Count);
        var down = g.GetTensor("blk.0.ffn_down.weight");
        Assert.Equal(new long[] { 64, 172 }, down.Shape);
        Assert.Equal(TensorDType.F32, down.Type);
        Assert.Equal(64 * 172 * 4, down.ByteSize);
        Assert.Equal(down.ByteSize, g.TensorBytes(down).Length);
    }

    [Fact]
    public void Reads_vocab_only_gguf_with_zero_tensors()
    {
        using var g = GgufFile.Open(Path.Combine(SharedData.TokenizerVectors, "ggml-vocab-llama-spm.gguf"));
        Assert.Empty(g.Tensors);
        Assert.Equal("llama", g.GetString("tokenizer.ggml.model"));
        Assert.Equal(32000, g.GetArray<float>("tokenizer.ggml.scores").Length);
    }

    [Fact]
    public void Every_truncation_fails_with_a_clear_error_naming_the_file()
    {
        var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
        var path = Path.Combine(Path.GetTempPath(), $"trunc-{Guid.NewGuid():N}.gguf");
        try
        {
            // Cut inside the header, the metadata, the tensor table and the data section.
            foreach (var cut in new[] { 0, 3, 10, 23, 40, 200, 5000, 20000, bytes.Length / 2, bytes.Length - 1 })
            {
                File.WriteAllBytes(path, bytes.AsSpan(0, cut).ToArray());
                var ex = Assert.ThrowsAny<Exception>(() => { using var g = GgufFile.Open(path); });
                Assert.True(ex is InvalidDataException, $"cut at {cut}: {ex.GetType().Name}: {ex.Message}");
                Assert.Contains(path, ex.Message);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Random_bit_flips_in_the_header_never_crash()
    {
        var original = File.ReadAllBytes(SharedData.Stories260KGguf);
        var path = Path.Combine(Path.GetTempPath(), $"flip-{Guid.NewGuid():N}.gguf");
        var rng = new Random(1234);
        try
        {
            using var good = GgufFile.Open(SharedData.Stories260KGguf);
            var headerEnd = (int)good.DataOffset;
            for (var trial = 0; trial < 300; trial++)
            {
                var bytes = (byte[])original.Clone();
                var pos = rng.Next(headerEnd);
                bytes[pos] ^= (byte)(1 << rng.Next(8));
                File.WriteAllBytes(path, bytes);
                try
                {
                    using var g = GgufFile.Open(path);
                    // A flip may land in a string's text and still parse; then every tensor must stay in bounds.
                    foreach (var t in g.Tensors) Assert.Equal(t.ByteSize, g.TensorBytes(t).Length);
                }
                catch (InvalidDataException ex)
                {
                    Assert.Contains(path, ex.Message);
                }
            }
        }
        finally { File.Delete(path); }
    }
}
