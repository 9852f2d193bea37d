using System.Text.Json;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// The variables a chat template is rendered with besides <c>messages</c>, as transformers passes them
/// (utils/chat_template_utils.py, render_jinja_template): <c>add_generation_prompt</c>, <c>tools</c> and
/// <c>documents</c> (none unless given), and the tokenizer's special tokens (<c>bos_token</c>,
/// <c>eos_token</c>; undefined when the tokenizer has none).
/// </summary>
public sealed record ChatTemplateOptions
{
    /// <summary>End the prompt with the header of an assistant turn, so the model writes the reply.</summary>
    public bool AddGenerationPrompt { get; init; }

    public string? BosToken { get; init; }

    public string? EosToken { get; init; }

    /// <summary>Tool definitions (a JSON array of OpenAI function schemas); none when null.</summary>
    public JsonElement? Tools { get; init; }

    /// <summary>What <c>strftime_now</c> formats (a wall-clock time); null reads the local clock.</summary>
    public DateTime? Now { get; init; }

    /// <summary>
    /// Further template variables (for example enable_thinking): strings, numbers, bools, null,
    /// JsonElement, lists and string-keyed dictionaries of those.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Variables { get; init; }

    /// <summary>Options with the BOS and EOS texts of <paramref name="spec"/> (control tokens as the template writes them).</summary>
    public static ChatTemplateOptions ForTokenizer(TokenizerSpec spec, bool addGenerationPrompt = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new ChatTemplateOptions
        {
            AddGenerationPrompt = addGenerationPrompt,
            BosToken = spec.BosId >= 0 ? spec.Tokens[spec.BosId] : null,
            EosToken = spec.EosId >= 0 ? spec.Tokens[spec.EosId] : null,
        };
    }
}
