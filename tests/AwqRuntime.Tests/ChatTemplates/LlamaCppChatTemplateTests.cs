using AwqRuntime.Generation.ChatTemplates;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Tests.LlamaSharp;

namespace AwqRuntime.Tests.ChatTemplates;

/// <summary>
/// Our Jinja rendering against llama.cpp's hand-written chat formats (llama_chat_apply_template via
/// LLamaSharp 0.30.0) for the families both know. llama.cpp's "llama2" formats differ from Meta's
/// template in the spaces around assistant turns, so llama2 is checked against transformers' output
/// instead (<see cref="BuiltInTemplateTests"/>).
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class LlamaCppChatTemplateTests
{
    private static readonly (string Role, string Content)[] Conversation = LlamaCppTemplateCase.Conversation;

    private static string Ours(string name, IEnumerable<(string Role, string Content)> messages, string bos = "", string eos = "") =>
        BuiltInTemplates.Get(name).Render(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList(),
            new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = bos, EosToken = eos });

    [Theory]
    [InlineData("chatml", "chatml", true, "", "")]
    [InlineData("qwen2", "chatml", true, "", "")]
    [InlineData("llama3", "llama3", true, "", "")]
    [InlineData("mistral", "mistral-v1", true, "", "</s>")]
    [InlineData("phi3", "phi3", true, "", "")]
    [InlineData("zephyr", "zephyr", true, "", "<|endoftext|>")] // llama.cpp's zephyr format ends turns with <|endoftext|>
    [InlineData("gemma", "gemma", false, "", "")] // Gemma's template refuses a system message; llama.cpp merges it
    public void Built_in_templates_match_llama_cpp(string ours, string llamaCpp, bool withSystem, string bos, string eos)
    {
        var messages = withSystem ? Conversation : Conversation[1..];
        foreach (var addAssistant in new[] { true, false })
        {
            var expected = LlamaCppChatTemplate.Apply(llamaCpp, messages, addAssistant);
            var actual = BuiltInTemplates.Get(ours).Render(messages.Select(m => new ChatMessage(m.Role, m.Content)).ToList(),
                new ChatTemplateOptions { AddGenerationPrompt = addAssistant, BosToken = bos, EosToken = eos });
            if (ours == "phi3" && !addAssistant) expected += eos; // Phi-3.5 ends with eos_token when no reply is asked for
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Qwen2_without_a_system_message_is_chatml_with_qwen_s_default_one()
    {
        var expected = LlamaCppChatTemplate.Apply("chatml", [("system", "You are a helpful assistant."), .. Conversation[1..]], addAssistant: true);
        Assert.Equal(expected, Ours("qwen2", Conversation[1..]));
    }

    /// <summary>llama.cpp cases whose Jinja expectation is also what its hand-written format gives (detected from the same source).</summary>
    public static TheoryData<string> DetectedCases => new(
    [
        "teknium/OpenHermes-2.5-Mistral-7B", "mistralai/Mistral-7B-Instruct-v0.2 (NOTE: Old pre-v1 without a system prompt)",
        "deepseek-ai/deepseek-coder-33b-instruct", "eachadea/vicuna-13b-1.1", "Orca-Vicuna", "CohereForAI/c4ai-command-r-plus", "Llama-3",
        "Phi-3-small", "Phi-3-vision", "ChatGLM3", "ChatGLM4", "GLMEdge", "MiniCPM-3B-OpenHermes-2.5-v2-GGUF", "DeepSeek-V2",
        "ibm-granite/granite-3.0-8b-instruct", "mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)",
        "mistralai/Mistral-Large-Instruct-2411 (mistralai 'v7' template)", "Infinigence/Megrez-3B-Instruct", "phi-4", "inclusionAI/Ling-lite",
    ]);

    [Theory]
    [MemberData(nameof(DetectedCases))]
    public void Llama_cpp_renders_the_same_source_as_we_do(string name)
    {
        var c = LlamaCppTemplateCase.All.Single(x => x.Name == name);
        var ours = ChatTemplate.Parse(c.Template).Render(LlamaCppVectorTests.MessagesFor(c),
            new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = c.Bos, EosToken = c.Eos });
        Assert.Equal(LlamaCppChatTemplate.Apply(c.Template, Conversation, addAssistant: true), ours);
    }

    [Fact]
    public void Llama_cpp_lists_its_formats_and_refuses_unknown_ones()
    {
        var names = LlamaCppChatTemplate.BuiltInNames();
        foreach (var n in new[] { "chatml", "llama2", "llama3", "mistral-v1", "zephyr", "gemma", "phi3" }) Assert.Contains(n, names);
        var e = Assert.Throws<LlamaCppException>(() => LlamaCppChatTemplate.Apply("{{ no known markers }}", Conversation, true));
        Assert.Contains("no chat format", e.Message);
    }
}
