using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

public class GgufTensorTableTests
{
    [Fact]
    public void Reads_the_tensor_table_of_stories260K()
    {
        var tensors = GgufTensorTable.Read(SharedData.Stories260KGguf);
        Assert.Equal(48, tensors.Count);
        Assert.All(tensors, t => Assert.Equal("F32", t.TypeName));
        var embedding = Assert.Single(tensors, t => t.Name == "token_embd.weight");
        Assert.Equal([64L, 512L], embedding.Dimensions);
        var down = Assert.Single(tensors, t => t.Name == "blk.0.ffn_down.weight");
        Assert.Equal([172L, 64L], down.Dimensions);
        Assert.Equal(172 * 64, down.ElementCount);
        // All F32 and written in order: offsets are the running sum of sizes padded to 32 bytes.
        ulong offset = 0;
        foreach (var t in tensors)
        {
            Assert.Equal(offset, t.DataOffset);
            offset += (ulong)((t.ElementCount * 4 + 31) / 32 * 32);
        }
    }

    [Fact]
    public void Corrupt_files_are_invalid_data_not_crashes()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "GGML not gguf");
            Assert.Contains("bad magic", Assert.Throws<InvalidDataException>(() => GgufTensorTable.Read(path)).Message);

            var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
            foreach (var cut in new[] { 10, 30, 200, 9000 })
            {
                File.WriteAllBytes(path, bytes[..cut]);
                Assert.Throws<InvalidDataException>(() => GgufTensorTable.Read(path));
            }

            var huge = bytes[..64];
            BitConverter.GetBytes(ulong.MaxValue).CopyTo(huge, 8); // tensor count
            File.WriteAllBytes(path, huge);
            Assert.Contains("_count", Assert.Throws<InvalidDataException>(() => GgufTensorTable.Read(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Type_names_round_trip()
    {
        foreach (var name in new[] { "F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q4_K", "Q6_K", "IQ4_NL", "BF16" })
        {
            Assert.True(GgmlTypeNames.TryParse(name.ToLowerInvariant(), out var id));
            Assert.Equal(name, GgmlTypeNames.NameOf(id));
        }
        Assert.Equal(8, GgmlTypeNames.TryParse("Q8_0", out var q8) ? q8 : -1);
        Assert.Equal("TYPE_99", GgmlTypeNames.NameOf(99));
        Assert.False(GgmlTypeNames.TryParse("Q4_K_M", out _));
    }
}
