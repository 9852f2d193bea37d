using AwqRuntime.Cli.Commands;
using AwqRuntime.Formats.Llama2c;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Hardening;

/// <summary>Messages that used to point the wrong way, and outputs that were replaced or written without a word.</summary>
public class MisleadingMessageTests
{
    [Fact]
    public void Export_gguf_refuses_to_replace_a_file_without_force()
    {
        using var tmp = new TempDir("msg-gguf");
        var out_ = tmp.File("out.gguf");
        File.WriteAllText(out_, "keep me");
        AwqCli.FailWithOneLine($"{out_}: file exists (use --force to replace it)", "export-gguf", SharedData.Stories260KGguf, "--out", out_);
        Assert.Equal("keep me", File.ReadAllText(out_));
        AwqCli.Succeed("export-gguf", SharedData.Stories260KGguf, "--out", out_, "--force");
        Assert.NotEqual("keep me", File.ReadAllText(out_));
    }

    [Fact]
    public void Export_hf_names_the_force_flag()
    {
        using var tmp = new TempDir("msg-hf");
        File.WriteAllText(tmp.File("something"), "x");
        AwqCli.FailWithOneLine("use --force to replace it", "export-hf", SharedData.Stories260KGguf, "--out", tmp.Path);
    }

    [Fact]
    public void A_gguf_renamed_to_bin_has_its_tokenizer_read_as_gguf()
    {
        using var tmp = new TempDir("msg-renamed");
        var renamed = tmp.File("stories.bin");
        File.Copy(SharedData.Stories260KGguf, renamed);
        Assert.Equal(512, TokenizerFiles.Read(renamed).VocabSize);
        AwqCli.Succeed("generate", renamed, "-n", "2", "--temp", "0", "--quiet");
    }

    [Fact]
    public void A_text_file_or_a_tokenizer_given_as_the_model_is_not_a_model_file()
    {
        using var tmp = new TempDir("msg-notmodel");
        var text = tmp.File("notes.txt");
        File.WriteAllText(text, "Once upon a time there was a little model file that was really just text.\n");
        AwqCli.FailWithOneLine($"{text}: not a model file", "generate", text, "--tokenizer", SharedData.Tok512, "-n", "2");
        AwqCli.FailWithOneLine($"{SharedData.Tok512}: not a model file", "generate", SharedData.Tok512, "--tokenizer", SharedData.Tok512, "-n", "2");
        // A real llama2.c checkpoint still opens.
        using var ok = Llama2cWeightSource.Open(SharedData.Stories260KBin);
    }

    [Fact]
    public void The_calibration_error_says_long_documents_are_skipped()
    {
        var text = "a b c d e f g h i j k l\n\nm n o p q r s t u v w x y z";
        int[] Encode(string doc) => [1, .. doc.Split(' ').Select(w => (int)w[0])];
        var e = Assert.Throws<ArgumentException>(() => CalibrationSet.FromText(text, Encode, samples: 4, seqLen: 8, source: "file t.txt"));
        Assert.Contains("gave no sequence of 8 tokens", e.Message);
        Assert.Contains("longer than 8 tokens are skipped", e.Message);
        Assert.Contains("(2 skipped)", e.Message);
    }

    [Fact]
    public void A_group_size_that_does_not_divide_the_rows_is_warned_about()
    {
        using var src = Llama2cWeightSource.Open(SharedData.Stories260KBin);
        var warning = QuantizeCommand.NonStandardLayoutWarning(src.Config, 128);
        Assert.NotNull(warning);
        Assert.Contains("--group-size 128", warning);
        Assert.Contains("q_proj (64 wide)", warning);
        Assert.Contains("down_proj (172 wide)", warning);
        Assert.Contains("vLLM", warning);
        // A linear kept in fp16 is not grouped: stories260K at g32 with down_proj in fp16 is the standard layout.
        Assert.Contains("down_proj", QuantizeCommand.NonStandardLayoutWarning(src.Config, 32));
        Assert.Null(QuantizeCommand.NonStandardLayoutWarning(src.Config, 32, ["down_proj"]));
        // Widths that are multiples of the group: the standard AutoAWQ layout, no warning.
        Assert.Null(QuantizeCommand.NonStandardLayoutWarning(SyntheticModel.PresetConfig("llama3"), 128));
    }
}
