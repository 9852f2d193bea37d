using AwqRuntime.Generation.ChatTemplates;

namespace AwqRuntime.Tests.ChatTemplates;

/// <summary>The built-in templates render the published references of their model families.</summary>
public class BuiltInTemplateTests
{
    private static readonly ChatMessage[] Conversation = LlamaCppTemplateCase.Conversation.Select(m => new ChatMessage(m.Role, m.Content)).ToArray();

    private static LlamaCppTemplateCase LlamaCpp(string name) => LlamaCppTemplateCase.All.Single(c => c.Name == name);

    private static string Render(string name, IReadOnlyList<ChatMessage> messages, string bos, string eos, bool generationPrompt = true) =>
        BuiltInTemplates.Get(name).Render(messages, new ChatTemplateOptions { AddGenerationPrompt = generationPrompt, BosToken = bos, EosToken = eos });

    [Fact]
    public void The_required_names_are_there()
    {
        foreach (var name in new[] { "llama2", "llama3", "chatml", "mistral", "zephyr", "gemma", "phi3", "raw" })
            Assert.Contains(name, BuiltInTemplates.Names);
        Assert.All(BuiltInTemplates.Names, n => Assert.Equal(n, BuiltInTemplates.Get(n).Name));
    }

    [Fact]
    public void Llama2_is_meta_s_template_and_renders_what_transformers_does()
    {
        Assert.Equal(TransformersVectorTests.Llama2Source, BuiltInTemplates.Source("llama2"));
        Assert.Equal(TransformersVectorTests.Llama2Expected, Render("llama2", Conversation, "<s>", "</s>"));
    }

    [Fact]
    public void Llama3_renders_llama_cpp_s_expected_text_and_omits_the_header_without_a_generation_prompt()
    {
        var reference = LlamaCpp("Llama-3");
        Assert.Equal(reference.Expected, Render("llama3", Conversation, "", ""));
        Assert.Equal("<|begin_of_text|>" + reference.Expected, Render("llama3", Conversation, "<|begin_of_text|>", "<|eot_id|>"));
        const string header = "<|start_header_id|>assistant<|end_header_id|>\n\n";
        Assert.Equal(reference.Expected[..^header.Length], Render("llama3", Conversation, "", "", generationPrompt: false));
    }

    [Fact]
    public void Chatml_renders_openhermes_expected_text()
    {
        var reference = LlamaCpp("teknium/OpenHermes-2.5-Mistral-7B");
        Assert.Equal(reference.Expected, Render("chatml", Conversation, "", ""));
    }

    [Fact]
    public void Qwen2_adds_its_default_system_message_only_when_there_is_none()
    {
        Assert.Equal(Render("chatml", Conversation, "", ""), Render("qwen2", Conversation, "", ""));
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
            Render("qwen2", [ChatMessage.User("Hello")], "", ""));
    }

    [Fact]
    public void Mistral_is_the_v1_template_of_llama_cpp_s_vectors()
    {
        var reference = LlamaCpp("mistralai/Mistral-7B-Instruct-v0.2 (mistralai 'v1' template with a system prompt)");
        Assert.Equal(reference.Template, BuiltInTemplates.Source("mistral"));
        Assert.Equal(reference.Expected, Render("mistral", Conversation, "", "</s>"));
        Assert.Equal("<s> [INST] Hi [/INST]", Render("mistral", [ChatMessage.User("Hi")], "<s>", "</s>"));
    }

    [Fact]
    public void Zephyr_renders_huggingface_js_targets()
    {
        foreach (var c in HuggingFaceJsVectorTests.All.Where(c => c.Name.StartsWith("HuggingFaceH4/zephyr-7b-beta", StringComparison.Ordinal)))
        {
            Assert.Equal(c.Template, BuiltInTemplates.Source("zephyr"));
            using var data = System.Text.Json.JsonDocument.Parse(c.DataJson);
            var messages = data.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString())).ToList();
            var prompt = data.RootElement.GetProperty("add_generation_prompt").GetBoolean();
            Assert.Equal(c.Target, Render("zephyr", messages, "<s>", "</s>", prompt));
        }
    }

    [Fact]
    public void Gemma_renders_what_transformers_does_and_refuses_a_system_message()
    {
        Assert.Equal(TransformersVectorTests.GemmaSource, BuiltInTemplates.Source("gemma"));
        Assert.Equal(TransformersVectorTests.GemmaExpected, Render("gemma", Conversation[1..], "<bos>", "<eos>"));
        var e = Assert.Throws<ChatTemplateRaisedException>(() => Render("gemma", Conversation, "<bos>", "<eos>"));
        Assert.Equal("System role not supported", e.TemplateMessage);
        var alternate = Assert.Throws<ChatTemplateRaisedException>(() => Render("gemma", [ChatMessage.User("a"), ChatMessage.User("b")], "", ""));
        Assert.Equal("Conversation roles must alternate user/assistant/user/assistant/...", alternate.TemplateMessage);
    }

    [Fact]
    public void Phi3_renders_the_phi3_expected_text_drops_an_empty_system_message_and_ends_with_eos_without_a_prompt()
    {
        // For this conversation Phi-3.5-mini's template and llama.cpp's Phi-3-small case render the same text.
        Assert.Equal(LlamaCpp("Phi-3-small").Expected, Render("phi3", Conversation, "", ""));
        Assert.Equal("<|user|>\nHi<|end|>\n<|endoftext|>",
            Render("phi3", [ChatMessage.System(""), ChatMessage.User("Hi")], "<s>", "<|endoftext|>", generationPrompt: false));
    }

    [Fact]
    public void Raw_concatenates_the_contents()
    {
        Assert.Equal("You are a helpful assistantHelloHi thereWho are you   I am an assistant   Another question",
            Render("raw", Conversation, "<s>", "</s>"));
    }

    [Fact]
    public void Names_and_files_resolve_and_unknown_names_say_what_exists()
    {
        Assert.Same(BuiltInTemplates.Get("chatml"), ChatTemplate.FromNameOrFile("chatml"));
        var e = Assert.Throws<FileNotFoundException>(() => ChatTemplate.FromNameOrFile("no-such-template"));
        Assert.Contains("llama3", e.Message);
        Assert.Throws<ArgumentException>(() => BuiltInTemplates.Get("no-such-template"));

        using var dir = new Formats.TempDir("chat-template");
        var jinja = dir.File("t.jinja");
        File.WriteAllText(jinja, "{{ messages[0].content | upper }}\n");
        Assert.Equal("HI", ChatTemplate.FromNameOrFile(jinja).Render([ChatMessage.User("hi")]));
        var config = dir.File("tokenizer_config.json");
        File.WriteAllText(config, """{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D{{ messages|length }}"}]}""");
        Assert.Equal("D1", ChatTemplate.FromNameOrFile(config).Render([ChatMessage.User("hi")]));
    }
}
