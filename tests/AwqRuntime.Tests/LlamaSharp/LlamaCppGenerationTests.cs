using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

[Collection(LlamaCppCollection.Name)]
public class LlamaCppGenerationTests(LlamaCppFixture fixture)
{
    private readonly LlamaCppModel _model = fixture.Model;

    [Fact]
    public void Greedy_from_bos_reproduces_the_256_reference_tokens_exactly()
    {
        var reference = Stories260KReference.Load();
        var result = _model.Generate([1], 256);
        Assert.Equal(reference.GreedyFromBos, result.Tokens);
        Assert.Equal(reference.GreedyText, result.Text);
        Assert.Equal(GenerationStopReason.MaxTokens, result.StopReason);
        Assert.Equal(1, result.PromptTokens);
        Assert.Equal(255, result.DecodeSteps);
        Assert.True(result.DecodeTokensPerSecond > 0);
        Assert.True(result.PrefillTokensPerSecond > 0);
    }

    [Fact]
    public void Greedy_after_a_prompt_continues_like_llama2c()
    {
        var reference = Stories260KReference.Load();
        var prompt = reference.ZooPromptIds; // [BOS, Z, oo-pieces...]
        var expected = reference.ZooEmittedIncludingPrompt[(prompt.Length - 1)..];
        var result = _model.Generate(prompt, expected.Length);
        Assert.Equal(expected, result.Tokens);
        Assert.Equal(prompt.Length, result.PromptTokens);
        Assert.Equal(reference.ZooText, reference.ZooPrompt + result.Text); // " was a little girl ..."
    }

    [Fact]
    public void Prompts_longer_than_a_batch_are_prefilled_in_chunks()
    {
        var reference = Stories260KReference.Load();
        int[] sequence = [1, .. reference.GreedyFromBos];
        using var small = LlamaCppModel.Load(SharedData.Stories260KGguf, LlamaCppFixture.F32Options with { BatchSize = 32 });
        var result = small.Generate(sequence.AsSpan(0, 100), 20);
        Assert.Equal(reference.GreedyFromBos[99..119], result.Tokens);
    }

    [Fact]
    public void Sampling_is_reproducible_by_seed_and_top_k_1_is_greedy()
    {
        var sampling = new LlamaCppSamplingOptions { Temperature = 1.0f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 1234 };
        var a = _model.Generate([1], 64, sampling);
        var b = _model.Generate([1], 64, sampling);
        Assert.Equal(a.Tokens, b.Tokens);
        var others = Enumerable.Range(0, 3).Select(s => _model.Generate([1], 64, sampling with { Seed = (uint)(5000 + s) }).Tokens);
        Assert.Contains(others, t => !t.SequenceEqual(a.Tokens));

        var topOne = _model.Generate([1], 64, sampling with { TopK = 1 });
        Assert.Equal(Stories260KReference.Load().GreedyFromBos[..64], topOne.Tokens);
    }

    [Fact]
    public void Arguments_are_checked()
    {
        Assert.Throws<ArgumentException>(() => _model.Generate([], 4));
        Assert.Throws<ArgumentException>(() => _model.Generate([1], 512));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.Generate([1], -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.Generate([1, 600], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.Generate([1], 4, new LlamaCppSamplingOptions { TopP = 0f }));
        Assert.Empty(_model.Generate([1], 0).Tokens);
    }

    [Fact]
    public void ArgMax_takes_the_lowest_index_on_ties()
    {
        Assert.Equal(1, LlamaCppModel.ArgMax([0f, 3f, 3f, -1f]));
        Assert.Equal(0, LlamaCppModel.ArgMax([float.NegativeInfinity, float.NegativeInfinity]));
    }
}
