using System.Text;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>What the fuzzer found in the loaders, each reproduced directly (the fuzzer keeps them as regression cases too).</summary>
public class FuzzFindingTests
{
    private static void OneShortLineNaming(string path, Action load, int maxLength = 400)
    {
        var e = Assert.Throws<InvalidDataException>(load);
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(e.Message.Length <= maxLength + path.Length, $"{e.Message.Length} chars: {e.Message}");
        Assert.DoesNotMatch(@"[\x00-\x08\x0B-\x1F]", e.Message);
    }

    [Fact]
    public void Invalid_utf8_in_a_safetensors_index_names_the_index()
    {
        using var tmp = new TempDir("fuzz-index");
        var path = tmp.File("model.safetensors.index.json");
        byte[] bad = [.. "{\"weight_map\": {\""u8, 0xC3, 0x28, .. "a\": \"model-00001-of-00001.safetensors\"}}"u8];
        File.WriteAllBytes(path, bad);
        OneShortLineNaming(path, () => SafetensorsIndex.Read(path));
    }

    [Fact]
    public void A_broken_literal_gives_one_short_line_not_the_rest_of_the_file()
    {
        using var tmp = new TempDir("fuzz-literal");
        var path = tmp.File("config.json");
        var rest = string.Concat(Enumerable.Range(0, 200).Select(i => $"  \"key_{i}\": {i},\n"));
        File.WriteAllText(path, "{\n  \"tie_word_embeddings\": tr{ue,\n" + rest + "  \"z\": 0\n}");
        OneShortLineNaming(path, () => HfModelConfig.Read(path));
        var e = Assert.Throws<InvalidDataException>(() => HfModelConfig.Read(path));
        Assert.Contains("not valid JSON", e.Message);
        Assert.Contains("(line 2,", e.Message);
    }

    [Fact]
    public void A_gguf_name_of_garbage_is_printed_escaped_and_cut_short()
    {
        Assert.Equal("blk.0\\x02\\x00?x", GgufFile.Printable("blk.0\u0002\u0000\uFFFDx"));
        var longName = GgufFile.Printable(new string('a', 5000));
        Assert.Equal(65, longName.Length);
        Assert.EndsWith("…", longName);

        using var tmp = new TempDir("fuzz-gguf-name");
        var path = tmp.File("model.gguf");
        var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
        var nameLength = AwqRuntime.Fuzz.GgufFieldMap.Map(bytes).First(f => f.Label == "tensor name length");
        AwqRuntime.Fuzz.ByteMutator.Write(bytes, nameLength, 4096);
        File.WriteAllBytes(path, bytes);
        OneShortLineNaming(path, () => GgufFile.Open(path).Dispose());
    }
}
