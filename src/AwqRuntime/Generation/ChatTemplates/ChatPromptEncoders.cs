using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>A chat template and a tokenizer as the <see cref="ChatPromptEncoder"/> the server, `awq chat` and <see cref="AwqChatClient"/> take.</summary>
public static class ChatPromptEncoders
{
    /// <summary>
    /// Renders a conversation with <paramref name="template"/> (ending with the assistant header) and
    /// tokenizes it with special tokens parsed only where the template wrote them
    /// (<see cref="ChatPrompt.Build"/>). A template's raise_exception becomes an ArgumentException with its message.
    /// </summary>
    public static ChatPromptEncoder For(ChatTemplate template, ITokenizer tokenizer)
    {
        var options = ChatTemplateOptions.ForTokenizer(tokenizer.Spec, addGenerationPrompt: true);
        return turns =>
        {
            try
            {
                return ChatPrompt.Build(template, turns.Select(t => new ChatMessage(t.Role, t.Content)).ToList(), options, tokenizer).Ids;
            }
            catch (ChatTemplateRaisedException e)
            {
                throw new ArgumentException($"the chat template refused the conversation: {e.TemplateMessage}", e);
            }
            catch (ChatTemplateException e)
            {
                throw new ArgumentException($"the chat template could not render the conversation: {e.Message}", e);
            }
        };
    }
}
