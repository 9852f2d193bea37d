using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.ChatTemplates;

/// <summary>`awq template` run as a user runs it: exact stdout, one-line errors, exit codes.</summary>
public sealed class TemplateCommandTests : IDisposable
{
    private readonly TempDir _dir = new("awq-template");

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string text)
    {
        var path = _dir.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Conversation() => Write("messages.json", """
        [
          {"role": "system", "content": "You are a helpful assistant"},
          {"role": "user", "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": "again"}]},
          {"role": "assistant", "content": "Hi there"},
          {"role": "user", "content": "Who are you"}
        ]
        """);

    [Fact]
    public void Prints_the_prompt_exactly_with_no_newline_added()
    {
        var r = AwqCli.Succeed("template", "--chat-template", "chatml", "--messages", Conversation(), "--add-generation-prompt");
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello\nagain<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n"
            + "<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n", r.Stdout);
        Assert.Equal("", r.Stderr);
        var noPrompt = AwqCli.Succeed("template", "--chat-template", "llama3", "--messages", Conversation(), "--bos-token", "<|begin_of_text|>");
        Assert.StartsWith("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n", noPrompt.Stdout);
        Assert.EndsWith("Who are you<|eot_id|>", noPrompt.Stdout);
    }

    [Fact]
    public void A_llama2c_model_takes_bos_and_eos_from_its_tokenizer()
    {
        var r = AwqCli.Succeed("template", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--chat-template", "llama2",
            "--messages", Conversation());
        Assert.Equal("<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello\nagain [/INST] Hi there </s><s>[INST] Who are you [/INST]", r.Stdout);
    }

    [Fact]
    public void A_model_folder_s_own_template_and_special_tokens_are_used()
    {
        var folder = Path.Combine(_dir.Path, "hf");
        Directory.CreateDirectory(folder);
        // A Hugging Face folder whose tokenizer files were written from stories260K's vocabulary.
        AwqRuntime.Tokenization.HfTokenizerWriter.Write(
            AwqRuntime.Tokenization.Llama2cTokenizerReader.Read(SharedData.Tok512) with { ChatTemplate = "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}" },
            folder);
        var r = AwqCli.Succeed("template", folder, "--messages", Conversation());
        Assert.Equal("<s>[system] You are a helpful assistant</s>[user] Hello\nagain</s>[assistant] Hi there</s>[user] Who are you</s>", r.Stdout);
        var overridden = AwqCli.Succeed("template", folder, "--chat-template", "raw", "--messages", Conversation());
        Assert.Equal("You are a helpful assistantHello\nagainHi thereWho are you", overridden.Stdout);
    }

    [Fact]
    public void Tools_and_now_reach_the_template()
    {
        var template = Write("t.jinja", "{{ strftime_now('%d %b %Y') }}|{{ tools | tojson }}|{{ tools is none }}");
        var tools = Write("tools.json", """[{"type": "function", "function": {"name": "get_weather"}}]""");
        var r = AwqCli.Succeed("template", "--chat-template", template, "--messages", Conversation(), "--tools", tools, "--now", "2025-01-15T12:00:00");
        Assert.Equal("15 Jan 2025|[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}]|False", r.Stdout);
        var none = AwqCli.Succeed("template", "--chat-template", template, "--messages", Conversation(), "--now", "2025-01-15T12:00:00");
        Assert.Equal("15 Jan 2025|null|True", none.Stdout);
    }

    [Fact]
    public void The_template_s_own_refusal_is_a_one_line_error()
    {
        var line = AwqCli.FailWithOneLine("System role not supported", "template", "--chat-template", "gemma", "--messages", Conversation());
        Assert.Equal("awq: error: the chat template refused the conversation: System role not supported", line);
    }

    [Fact]
    public void Problems_are_one_line_errors_naming_the_cause()
    {
        AwqCli.FailWithOneLine("--chat-template NAME|FILE", "template", "--messages", Conversation());
        AwqCli.FailWithOneLine("stories260K.gguf: the model carries no chat template; pick one with --chat-template NAME|FILE",
            "template", SharedData.Stories260KGguf, "--messages", Conversation());
        var bad = Write("bad.json", "[{\"role\": \"user\"");
        AwqCli.FailWithOneLine($"{bad}: not valid JSON", "template", "--chat-template", "chatml", "--messages", bad);
        var image = Write("image.json", """[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]""");
        AwqCli.FailWithOneLine("only \"text\" parts are supported", "template", "--chat-template", "chatml", "--messages", image);
        AwqCli.FailWithOneLine("missing.json: no such file", "template", "--chat-template", "chatml", "--messages", _dir.File("missing.json"));
        AwqCli.FailWithOneLine("'nope' is neither a built-in chat template", "template", "--chat-template", "nope", "--messages", Conversation());
        var unsupported = Write("u.jinja", "{% for m in messages %}{{ m.content | wordwrap(10) }}{% endfor %}");
        var line = AwqCli.FailWithOneLine("unsupported filter 'wordwrap'", "template", "--chat-template", unsupported, "--messages", Conversation());
        Assert.Contains("--chat-template NAME|FILE", line);
        var runtime = Write("r.jinja", "{{ messages[0].content + 1 }}");
        AwqCli.FailWithOneLine("unsupported operand type(s) for +: 'str' and 'int' (choose another with --chat-template NAME|FILE)",
            "template", "--chat-template", runtime, "--messages", Conversation());
        AwqCli.FailWithOneLine("--now", "template", "--chat-template", "chatml", "--messages", Conversation(), "--now", "yesterday");
        AwqCli.FailWithOneLine("llama2.c checkpoints carry no tokenizer", "template", SharedData.Stories260KBin, "--messages", Conversation());
    }
}
