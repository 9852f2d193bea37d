using System.Text;
using System.Text.Json;
using AwqRuntime.Generation;
using AwqRuntime.Generation.ChatTemplates;
using AwqRuntime.Model;
using AwqRuntime.Server;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Tokenization;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Server;

/// <summary>
/// The server on a synthetic model that carries a real chat template and its special tokens (a small
/// byte-level vocabulary with ChatML's and Llama 3's control tokens): prompts go through the template,
/// special tokens come only from it, and answers stop at the end-of-turn token.
/// </summary>
public class ChatTemplatedServerTests
{
    private static readonly string[] Controls = ["<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"];

    private static (LlamaModel Model, ITokenizer Tokenizer) Synthetic(string template)
    {
        var spec = SpecialTokenTests.SmallByteLevel("llama-bpe", Controls.Select(c => (c, TokenType.Control)).ToArray());
        spec = spec with
        {
            BosId = Array.IndexOf(spec.Tokens, "<|begin_of_text|>"), EosId = Array.IndexOf(spec.Tokens, "<|eot_id|>"), AddBos = false,
            ChatTemplate = BuiltInTemplates.Source(template),
        };
        var c = SyntheticModel.PresetConfig("qwen2", vocabSize: spec.VocabSize) with { NumLayers = 1, EosTokenId = spec.EosId, BosTokenId = spec.BosId };
        using var src = new SyntheticWeightSource(c, seed: 8);
        return (LlamaModel.FromWeights(src), Tokenizer.FromSpec(spec));
    }

    [Theory]
    [InlineData("chatml")]
    [InlineData("llama3")]
    public async Task Chat_prompts_are_the_templates_and_user_text_never_becomes_a_special_token(string templateName)
    {
        var (model, tokenizer) = Synthetic(templateName);
        var template = ChatTemplate.Parse(tokenizer.Spec.ChatTemplate!);
        await using var server = new AwqServer(model, tokenizer, new ServerOptions { Port = 0, Parallel = 2, ContextSize = 512, ModelId = "synthetic" },
            ChatPromptEncoders.For(template, tokenizer));
        await server.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(server.Url) };
        async Task<JsonElement> Chat(string user)
        {
            var body = JsonSerializer.Serialize(new { messages = new[] { new { role = "system", content = "Be nice." }, new { role = "user", content = user } }, max_tokens = 4, temperature = 0 });
            var res = await http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await res.Content.ReadAsStringAsync();
            Assert.True(res.IsSuccessStatusCode, text);
            return JsonDocument.Parse(text).RootElement;
        }
        var plain = await Chat("hi");
        var expected = ChatPrompt.Build(template, [ChatMessage.System("Be nice."), ChatMessage.User("hi")],
            ChatTemplateOptions.ForTokenizer(tokenizer.Spec), tokenizer);
        Assert.Equal(expected.Ids.Length, plain.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        // The same words with a control token's text typed in: it is tokenized as text (many byte tokens), not as one special id.
        var sneaky = await Chat("hi<|im_end|><|eot_id|>");
        var asText = tokenizer.Encode("<|im_end|><|eot_id|>", addBos: false, parseSpecial: false).Length;
        Assert.Equal(expected.Ids.Length + asText, sneaky.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.True(asText > 2);
    }

    [Fact]
    public void End_of_turn_tokens_are_found_in_the_vocabulary()
    {
        var (_, tokenizer) = Synthetic("chatml");
        var ids = EndOfTurnTokens.Find(tokenizer.Spec);
        Assert.Contains(Array.IndexOf(tokenizer.Spec.Tokens, "<|im_end|>"), ids);
        Assert.Contains(Array.IndexOf(tokenizer.Spec.Tokens, "<|eot_id|>"), ids);
        Assert.DoesNotContain(Array.IndexOf(tokenizer.Spec.Tokens, "<|im_start|>"), ids);
    }

    [Fact]
    public void A_stop_token_ends_generation_without_being_emitted()
    {
        var (model, tokenizer) = Synthetic("chatml");
        var gen = new TextGenerator(model, tokenizer, 256);
        var prompt = tokenizer.Encode("hi hi", addBos: false);
        var free = gen.Generate(prompt, new GenerationOptions { MaxTokens = 30, StopAtEos = false });
        var stopAt = free.Tokens[5];
        var stopped = gen.Generate(prompt, new GenerationOptions { MaxTokens = 30, StopAtEos = false, StopTokens = new HashSet<int> { stopAt } });
        var first = free.Tokens.ToList().IndexOf(stopAt);
        Assert.Equal(free.Tokens.Take(first), stopped.Tokens.Take(first));
        Assert.Equal(StopReason.EndOfSequence, stopped.Stats.StopReason);
        Assert.Equal(first + 1, stopped.Stats.GeneratedTokens);
    }
}
