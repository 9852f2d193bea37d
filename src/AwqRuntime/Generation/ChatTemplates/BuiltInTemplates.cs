namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// Chat templates by name, for checkpoints that carry none (llama2.c, many GGUF conversions) or to
/// override the one they carry. Each is the Jinja source its model family published, run by the same
/// interpreter as any other template. Their BOS/EOS come from the tokenizer (bos_token, eos_token).
/// </summary>
public static class BuiltInTemplates
{
    // meta-llama/Llama-2-7b-chat-hf (and -13b/-70b) tokenizer_config.json "chat_template", as
    // transcribed with its transformers rendering in EricLBuehler/mistral.rs
    // mistralrs-core/src/pipeline/mod.rs (test_chat_templates).
    private const string Llama2 =
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
        + "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
        + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        + "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        + "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
        + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    // meta-llama/Meta-Llama-3-8B-Instruct tokenizer_config.json "chat_template" (the revision with the
    // add_generation_prompt condition; ggml-org/llama.cpp tests/test-chat-template.cpp keeps the
    // earlier one that always ends with the assistant header).
    private const string Llama3 =
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}"
        + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    // ChatML as teknium/OpenHermes-2.5-Mistral-7B publishes it (ggml-org/llama.cpp
    // tests/test-chat-template.cpp; huggingface/huggingface.js packages/jinja/test/e2e.test.js "_base").
    private const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    // Qwen/Qwen2-7B-Instruct (and Qwen1.5-*-Chat) tokenizer_config.json "chat_template": ChatML with a
    // default system message.
    private const string Qwen2 =
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
        + "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    // Mistral's "v1" template with an optional system message (Mistral-7B-Instruct-v0.2/v0.3), from
    // ggml-org/llama.cpp tests/test-chat-template.cpp ("mistralai 'v1' template with a system prompt").
    private const string Mistral =
        "{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n    {%- set loop_messages = messages[1:] %}\n"
        + "{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n{{- bos_token }}\n{%- for message in loop_messages %}\n"
        + "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
        + "        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n"
        + "    {%- endif %}\n    {%- if message['role'] == 'user' %}\n        {%- if loop.first and system_message is defined %}\n"
        + "            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}\n        {%- else %}\n"
        + "            {{- ' [INST] ' + message['content'] + ' [/INST]' }}\n        {%- endif %}\n    {%- elif message['role'] == 'assistant' %}\n"
        + "        {{- ' ' + message['content'] + eos_token}}\n    {%- else %}\n"
        + "        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n"
        + "    {%- endif %}\n{%- endfor %}\n";

    // HuggingFaceH4/zephyr-7b-beta tokenizer_config.json "chat_template" (also TinyLlama/TinyLlama-1.1B-Chat-v1.0),
    // from huggingface/huggingface.js packages/jinja/test/e2e.test.js.
    private const string Zephyr =
        "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n"
        + "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
        + "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
        + "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    // google/gemma-7b-it tokenizer_config.json "chat_template" (gemma-2-*-it publish the same; ggml-org/llama.cpp
    // models/templates/google-gemma-2-2b-it.jinja). There is no system role.
    private const string Gemma =
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}{% for message in messages %}"
        + "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        + "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
        + "{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}";

    // microsoft/Phi-3.5-mini-instruct tokenizer_config.json "chat_template" (ggml-org/llama.cpp
    // models/templates/microsoft-Phi-3.5-mini-instruct.jinja).
    private const string Phi3 =
        "{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}{{'<|system|>\n' + message['content'] + '<|end|>\n'}}"
        + "{% elif message['role'] == 'user' %}{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"
        + "{% elif message['role'] == 'assistant' %}{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}";

    // No markup: the contents one after another, for base models (and stories260K).
    private const string Raw = "{% for message in messages %}{{ message['content'] }}{% endfor %}";

    private static readonly (string Name, string Source)[] Sources =
    [
        ("llama2", Llama2), ("llama3", Llama3), ("chatml", ChatMl), ("qwen2", Qwen2), ("mistral", Mistral),
        ("zephyr", Zephyr), ("gemma", Gemma), ("phi3", Phi3), ("raw", Raw),
    ];

    private static readonly Lazy<Dictionary<string, ChatTemplate>> Parsed = new(() =>
        Sources.ToDictionary(s => s.Name, s => ChatTemplate.Parse(s.Source, s.Name), StringComparer.Ordinal));

    public static IReadOnlyList<string> Names { get; } = Sources.Select(s => s.Name).ToArray();

    /// <summary>The Jinja source of a built-in template.</summary>
    public static string Source(string name) =>
        Sources.FirstOrDefault(s => s.Name == name).Source
        ?? throw new ArgumentException($"unknown built-in chat template '{name}' (built-in: {string.Join(", ", Names)})", nameof(name));

    public static bool TryGet(string name, out ChatTemplate template) => Parsed.Value.TryGetValue(name, out template!);

    public static ChatTemplate Get(string name) =>
        TryGet(name, out var t) ? t : throw new ArgumentException($"unknown built-in chat template '{name}' (built-in: {string.Join(", ", Names)})", nameof(name));
}
