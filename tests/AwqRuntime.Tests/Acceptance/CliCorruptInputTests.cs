using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>
/// A truncated or corrupt checkpoint gives every model-taking command exit code 1
/// and one "awq: error: …" line naming the file: no stack trace, no crash, no hang.
/// </summary>
public class CliCorruptInputTests
{
    /// <summary>Commands that load a model, with the arguments they need besides it.</summary>
    public static TheoryData<string> Commands => new() { "generate", "eval", "export-gguf", "export-hf" };

    private static string[] CommandLine(string command, string model, TempDir tmp, params string[] extra) => command switch
    {
        "generate" => ["generate", model, "-n", "4", .. extra],
        "eval" => ["eval", model, "--data", SharedData.EvalText, "--json", .. extra],
        "export-gguf" => ["export-gguf", model, "--out", tmp.File("out.gguf"), .. extra],
        "export-hf" => ["export-hf", model, "--out", tmp.File("out-hf"), .. extra],
        _ => throw new ArgumentException(command),
    };

    private static void FailsNamingTheFile(string command, string model, string file, TempDir tmp, params string[] extra)
    {
        var before = Directory.GetFileSystemEntries(tmp.Path).Length;
        AwqCli.FailWithOneLine(file, CommandLine(command, model, tmp, extra));
        // Nothing half-written is left behind.
        Assert.Equal(before, Directory.GetFileSystemEntries(tmp.Path).Length);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_truncated_llama2c_checkpoint(string command)
    {
        using var tmp = new TempDir("corrupt-bin");
        var path = tmp.File("truncated.bin");
        var bytes = File.ReadAllBytes(SharedData.Stories260KBin);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        FailsNamingTheFile(command, path, path, tmp, "--tokenizer", SharedData.Tok512);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_truncated_gguf(string command)
    {
        using var tmp = new TempDir("corrupt-gguf");
        var path = tmp.File("truncated.gguf");
        var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
        File.WriteAllBytes(path, bytes[..(bytes.Length * 2 / 3)]);
        FailsNamingTheFile(command, path, path, tmp);
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_gguf_cut_inside_its_header(string command)
    {
        using var tmp = new TempDir("corrupt-gguf-header");
        var path = tmp.File("header-only.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(SharedData.Stories260KGguf)[..2000]);
        FailsNamingTheFile(command, path, path, tmp);
    }

    [Theory]
    [InlineData("{\"model_type\": \"llama\", \"hidden_size\": ")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"model_type\": \"llama\", \"hidden_size\": \"wide\", \"num_attention_heads\": 8}")]
    [InlineData("")]
    public void A_folder_with_a_corrupt_config_json(string config)
    {
        using var tmp = new TempDir("corrupt-config");
        var folder = Path.Combine(tmp.Path, "model");
        Directory.CreateDirectory(folder);
        // A real model folder otherwise: the tensors and tokenizer are fine, only config.json is broken.
        var exported = AwqCli.Succeed("export-hf", SharedData.Stories260KGguf, "--out", Path.Combine(tmp.Path, "good"));
        Assert.Equal(0, exported.ExitCode);
        foreach (var f in Directory.GetFiles(Path.Combine(tmp.Path, "good")))
            File.Copy(f, Path.Combine(folder, Path.GetFileName(f)));
        var configPath = Path.Combine(folder, "config.json");
        File.WriteAllText(configPath, config);
        foreach (var command in new[] { "generate", "eval", "export-gguf" })
            AwqCli.FailWithOneLine(configPath, CommandLine(command, folder, tmp));
    }

    [Fact]
    public void A_truncated_tokenizer()
    {
        using var tmp = new TempDir("corrupt-tokenizer");
        var path = tmp.File("tok512-truncated.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(SharedData.Tok512)[..1000]);
        AwqCli.FailWithOneLine(path, "generate", SharedData.Stories260KBin, "--tokenizer", path, "-n", "4");
    }

    [Fact]
    public void Not_a_model_at_all()
    {
        AwqCli.FailWithOneLine(SharedData.EvalText, "generate", SharedData.EvalText, "-n", "4");
    }
}
