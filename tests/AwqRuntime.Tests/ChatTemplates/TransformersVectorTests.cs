using System.Text.Json;
using AwqRuntime.Generation.ChatTemplates;

namespace AwqRuntime.Tests.ChatTemplates;

/// <summary>
/// Templates and renderings from EricLBuehler/mistral.rs mistralrs-core/src/pipeline/mod.rs at commit
/// 28bf5fbce78b252fc6b26c21b5ca31580a84c2e4 (test_chat_templates, test_image_chat_templates), whose
/// expected strings were generated with transformers' tokenizer.apply_chat_template(…,
/// add_generation_prompt=True, tokenize=False): the six-message conversation with its system message
/// for templates that take one, without it for the others; bos "&lt;s&gt;", eos "&lt;/s&gt;" (Gemma
/// "&lt;bos&gt;", "&lt;eos&gt;").
/// </summary>
public class TransformersVectorTests
{
    private static readonly ChatMessage[] WithSystem =
    [
        ChatMessage.System("You are a helpful assistant"),
        ChatMessage.User("Hello"),
        ChatMessage.Assistant("Hi there"),
        ChatMessage.User("Who are you"),
        ChatMessage.Assistant("   I am an assistant   "),
        ChatMessage.User("Another question"),
    ];

    private static readonly ChatMessage[] WithoutSystem = WithSystem[1..];

    public const string Llama2Source =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    public const string Llama2Expected =
        "<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s><s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]";

    public const string GemmaSource =
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}";

    public const string GemmaExpected =
        "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n";

    public static TheoryData<string, string, bool, string, string, string> Cases => new()
    {
        {
            "teknium/OpenHermes-2.5-Mistral-7B",
            "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
            true, "<s>", "</s>",
            "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n<|im_start|>assistant\n"
        },
        {
            "mistralai/Mistral-7B-Instruct-v0.1",
            "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
            false, "<s>", "</s>",
            "<s>[INST] Hello [/INST]Hi there</s> [INST] Who are you [/INST]   I am an assistant   </s> [INST] Another question [/INST]"
        },
        { "meta-llama/Llama-2-13b-chat-hf", Llama2Source, true, "<s>", "</s>", Llama2Expected },
        {
            "mistralai/Mixtral-8x7B-Instruct-v0.1",
            "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}",
            false, "<s>", "</s>",
            "<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   </s>[INST] Another question [/INST]"
        },
        { "google/gemma-7b-it", GemmaSource, false, "<bos>", "<eos>", GemmaExpected },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders_what_transformers_renders(string name, string template, bool withSystem, string bos, string eos, string expected)
    {
        _ = name;
        var options = new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = bos, EosToken = eos };
        Assert.Equal(expected, ChatTemplate.Parse(template).Render(withSystem ? WithSystem : WithoutSystem, options));
    }

    [Fact]
    public void Idefics2_iterates_typed_content_parts()
    {
        // HuggingFaceM4/idefics2-8b-chatty, rendered by transformers' processor.apply_chat_template.
        const string template =
            "{% for message in messages %}{{message['role'].capitalize()}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";
        const string messages = """
            [
              {"role": "system", "content": [{"type": "text", "text": "You are a helpful assistant"}]},
              {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hello, please describe the above."}]},
              {"role": "assistant", "content": [{"type": "text", "text": "Hi there"}]},
              {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "This is me, who are you"}]},
              {"role": "assistant", "content": [{"type": "text", "text": "   I am an assistant   "}]},
              {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Another question, what is this?"}]}
            ]
            """;
        using var doc = JsonDocument.Parse(messages);
        var variables = new Dictionary<string, object?>
        {
            ["messages"] = TemplateValues.FromJson(doc.RootElement), ["add_generation_prompt"] = true, ["bos_token"] = "<s>", ["eos_token"] = "</s>",
        };
        Assert.Equal(
            "System: You are a helpful assistant<end_of_utterance>\nUser:<image>Hello, please describe the above.<end_of_utterance>\nAssistant: Hi there<end_of_utterance>\nUser:<image>This is me, who are you<end_of_utterance>\nAssistant:    I am an assistant   <end_of_utterance>\nUser:<image>Another question, what is this?<end_of_utterance>\nAssistant:",
            ChatTemplate.Parse(template).RenderValues(variables, now: null));
    }
}
