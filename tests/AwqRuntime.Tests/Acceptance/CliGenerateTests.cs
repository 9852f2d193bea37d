using System.Text.Json;
using System.Text.RegularExpressions;
using AwqRuntime.Formats;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Acceptance;

/// <summary>
/// `awq generate` from BOS, greedy, prints llama2.c's published text,
/// from the .bin (with tok512.bin) and from the .gguf; it streams, and ends with the speeds.
/// </summary>
public partial class CliGenerateTests
{
    [GeneratedRegex(@"prefill \d+(\.\d+)? tok/s, decode \d+(\.\d+)? tok/s")]
    private static partial Regex SpeedLine();

    public static TheoryData<string> Checkpoints => new() { "bin", "gguf" };

    private static string[] GreedyArgs(string kind) => kind == "bin"
        ? ["generate", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "-n", "256", "--temp", "0"]
        : ["generate", SharedData.Stories260KGguf, "-n", "256", "--temp", "0"];

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Greedy_256_from_bos_prints_exactly_the_published_text(string kind)
    {
        var reference = Stories260KReference.Load();
        var r = AwqCli.Succeed(GreedyArgs(kind));
        Assert.Equal(reference.GreedyText + "\n", r.Stdout);
        // The last thing on stderr is the speed report, after everything on stdout.
        var last = r.StderrLines[^1];
        Assert.Matches(SpeedLine(), last);
        Assert.Contains("1 prompt tokens, 256 generated", last);
    }

    [Fact]
    public void Json_output_parses_and_carries_the_text_and_speeds()
    {
        var reference = Stories260KReference.Load();
        var r = AwqCli.Succeed([.. GreedyArgs("gguf"), "--json"]);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(reference.GreedyText, root.GetProperty("text").GetString());
        Assert.Equal("", root.GetProperty("prompt").GetString());
        Assert.Equal(1, root.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(256, root.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(nameof(StopReason.MaxTokens), root.GetProperty("stop_reason").GetString());
        Assert.True(root.GetProperty("prefill_tokens_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("decode_tokens_per_second").GetDouble() > 0);
        Assert.True(root.GetProperty("threads").GetInt32() >= 1);
    }

    [Fact]
    public void A_prompt_is_echoed_and_continued_like_llama2c()
    {
        // llama2.c's run.c printed "Zoo" followed by its continuation (prompt_zoo in the reference).
        var reference = Stories260KReference.Load();
        var n = reference.ZooEmittedIncludingPrompt.Length - (reference.ZooPromptIds.Length - 1);
        var r = AwqCli.Succeed("generate", SharedData.Stories260KGguf, "-p", reference.ZooPrompt, "-n", n.ToString(), "--temp", "0", "-q");
        Assert.Equal(reference.ZooText + "\n", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void A_missing_model_file_is_one_error_line()
    {
        using var tmp = new Formats.TempDir("cli");
        var missing = tmp.File("no-such-model.gguf");
        AwqCli.FailWithOneLine("no-such-model.gguf", "generate", missing, "-n", "4");
    }

    [Fact]
    public void A_llama2c_checkpoint_without_tokenizer_is_one_error_line() =>
        AwqCli.FailWithOneLine("--tokenizer", "generate", SharedData.Stories260KBin, "-n", "4");

    [Theory]
    [InlineData("--bogus", "--bogus")]
    [InlineData("-n abc", "abc")]
    [InlineData("--temp hot", "hot")]
    [InlineData("-n -3", "max tokens")]
    [InlineData("--top-p 0", "top-p")]
    [InlineData("--threads -2", "--threads")]
    [InlineData("--ctx 4", "context")]
    public void A_bad_argument_is_one_error_line(string extra, string mustMention) =>
        // With a prompt: nothing of it may reach stdout before the error.
        AwqCli.FailWithOneLine(mustMention, ["generate", SharedData.Stories260KGguf, "-p", "Once upon a time", .. extra.Split(' ')]);

    [Fact]
    public void No_model_argument_is_one_error_line() => AwqCli.FailWithOneLine("generate", "generate");

    [Fact]
    public async Task The_generator_streams_the_text_a_token_at_a_time()
    {
        var reference = Stories260KReference.Load();
        using var src = CheckpointLoader.Open(SharedData.Stories260KGguf);
        var model = LlamaModel.FromWeights(src);
        var generator = new TextGenerator(model, Tokenizer.FromFile(SharedData.Stories260KGguf));
        var options = new GenerationOptions { MaxTokens = 256, Sampling = SamplingOptions.Greedy };

        var chunks = new List<GenerationChunk>();
        using (var e = generator.Stream([1], options, CancellationToken.None).GetEnumerator())
        {
            // The first piece is available before the generation has finished: it is a stream,
            // not a finished result cut into pieces.
            Assert.True(e.MoveNext());
            Assert.Null(generator.LastStats);
            chunks.Add(e.Current);
            while (e.MoveNext()) chunks.Add(e.Current);
        }
        Assert.True(chunks.Count(c => c.Text.Length > 0) > 100, $"only {chunks.Count(c => c.Text.Length > 0)} non-empty chunks");
        Assert.Equal(reference.GreedyText, string.Concat(chunks.Select(c => c.Text)));
        Assert.Equal(reference.GreedyFromBos, chunks.Where(c => c.TokenId >= 0).Select(c => c.TokenId).ToArray());
        Assert.Equal(256, generator.LastStats!.GeneratedTokens);

        // GenerateAsync (the facade's API) yields the same pieces.
        var asyncPieces = new List<string>();
        await foreach (var piece in generator.GenerateAsync("", options with { AddBos = true })) asyncPieces.Add(piece.Text);
        Assert.Equal(chunks.Select(c => c.Text), asyncPieces);
    }
}
