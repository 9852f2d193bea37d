namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// A chat template that cannot be parsed or rendered: a syntax error, a construct this interpreter does
/// not support (named in the message), or a runtime error such as adding a string to a number. The
/// message is one line and starts with "chat template" and, when known, the template line.
/// </summary>
public class ChatTemplateException : Exception
{
    public ChatTemplateException(string message, int? line = null, Exception? inner = null)
        : base(Format(message, line), inner)
    {
        Line = line;
        Detail = message;
    }

    /// <summary>1-based line in the template source, when known.</summary>
    public int? Line { get; }

    /// <summary>The message without the "chat template, line N:" prefix.</summary>
    public string Detail { get; }

    private static string Format(string message, int? line) =>
        line is { } l ? $"chat template, line {l}: {message}" : $"chat template: {message}";
}
