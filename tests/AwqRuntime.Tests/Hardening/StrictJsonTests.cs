using System.Text;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.Tokenization;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// JSON the readers refuse, each with one InvalidDataException naming the file and the key: invalid
/// UTF-8 inside a string (used to escape as the BCL's InvalidOperationException "Cannot transcode
/// invalid UTF-8 JSON text"), a key given twice (used to resolve silently to one of them), and a
/// quantization_config whose quant_method is not a string or whose two spellings of a field disagree.
/// </summary>
public sealed class StrictJsonTests : IDisposable
{
    private const string Common =
        "\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 64, \"intermediate_size\": 172, \"num_hidden_layers\": 1, " +
        "\"num_attention_heads\": 8, \"num_key_value_heads\": 4, \"vocab_size\": 512";

    private readonly TempDir _dir = new("json");

    public void Dispose() => _dir.Dispose();

    /// <summary>Writes <paramref name="json"/> as UTF-8 with every '~' replaced by the invalid byte 0xFF.</summary>
    private string Write(string name, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json).SelectMany(b => b == (byte)'~' ? new byte[] { 0xFF } : [b]).ToArray();
        var path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static void Fails(Action read, string path, params string[] fragments)
    {
        var e = Assert.Throws<InvalidDataException>(read);
        Assert.Contains(path, e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Invalid_utf8_in_a_config_string_names_the_file_and_key()
    {
        var path = Write("config.json", $"{{{Common}, \"_name_or_path\": \"llama~\"}}");
        Fails(() => HfModelConfig.Read(path), path, "invalid UTF-8", "_name_or_path");
    }

    [Fact]
    public void Invalid_utf8_in_quantization_config_names_the_nested_key()
    {
        var path = Write("config.json", $"{{{Common}, \"quantization_config\": {{\"quant_method\": \"awq\", \"bits\": 4, \"version\": \"ge~mm\"}}}}");
        Fails(() => HfModelConfig.Read(path), path, "invalid UTF-8", "quantization_config.version");
    }

    [Fact]
    public void Invalid_utf8_in_a_tokenizer_json_key_names_the_file_and_object()
    {
        var dir = Path.Combine(_dir.Path, "tok");
        HfTokenizerWriter.Write(TokenizerTestData.Tok512.Spec, dir);
        var json = Path.Combine(dir, "tokenizer.json");
        var text = File.ReadAllText(json);
        Assert.Contains("\"<0x00>\": 3", text);
        var bytes = Encoding.UTF8.GetBytes(text.Replace("\"<0x00>\": 3", "\"<0x~00>\": 3")).Select(b => b == (byte)'~' ? (byte)0xFF : b).ToArray();
        File.WriteAllBytes(json, bytes);
        Fails(() => HfTokenizerReader.Read(dir), json, "invalid UTF-8", "model.vocab");
    }

    [Fact]
    public void A_duplicate_key_is_refused_naming_it()
    {
        var path = Write("config.json", $"{{{Common}, \"hidden_size\": 128}}");
        Fails(() => HfModelConfig.Read(path), path, "'hidden_size' appears more than once");
        var quant = Write("config.json", $"{{{Common}, \"quantization_config\": {{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 64, \"group_size\": 128}}}}");
        Fails(() => HfModelConfig.Read(quant), quant, "'quantization_config.group_size' appears more than once");
    }

    [Fact]
    public void A_non_string_quant_method_is_refused()
    {
        var path = Write("config.json", $"{{{Common}, \"quantization_config\": {{\"quant_method\": 7, \"bits\": 4, \"group_size\": 128}}}}");
        Fails(() => HfModelConfig.Read(path), path, "quantization_config.quant_method", "7");
    }

    [Fact]
    public void Disagreeing_spellings_of_the_bit_width_are_refused()
    {
        var path = Write("config.json", $"{{{Common}, \"quantization_config\": {{\"quant_method\": \"awq\", \"bits\": 4, \"w_bit\": 7, \"group_size\": 128}}}}");
        Fails(() => HfModelConfig.Read(path), path, "quantization_config.bits is 4", "quantization_config.w_bit is 7");
        var agree = Write("config.json", $"{{{Common}, \"quantization_config\": {{\"quant_method\": \"awq\", \"bits\": 4, \"w_bit\": 4, \"group_size\": 64}}}}");
        Assert.Equal(64, HfModelConfig.Read(agree).Quantization!.GroupSize);
    }

    [Fact]
    public void Valid_non_ascii_text_still_reads()
    {
        var path = Write("config.json", $"{{{Common}, \"_name_or_path\": \"модель-日本\"}}");
        Assert.Equal("модель-日本", HfModelConfig.Read(path).Llama.Name);
    }
}
