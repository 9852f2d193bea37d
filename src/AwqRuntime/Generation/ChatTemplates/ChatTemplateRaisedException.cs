namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// The template itself refused the conversation through <c>raise_exception(message)</c> (for example
/// "Conversation roles must alternate user/assistant/user/assistant/..."). <see cref="TemplateMessage"/>
/// is the template's own text.
/// </summary>
public sealed class ChatTemplateRaisedException : ChatTemplateException
{
    public ChatTemplateRaisedException(string templateMessage, int? line)
        : base(templateMessage, line) => TemplateMessage = templateMessage;

    public string TemplateMessage { get; }
}
