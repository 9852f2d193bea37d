namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>A runtime error raised by value helpers that do not know the line; the renderer adds it.</summary>
internal sealed class TemplateError(string message) : Exception(message);
