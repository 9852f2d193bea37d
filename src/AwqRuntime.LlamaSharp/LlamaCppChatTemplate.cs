using System.Runtime.InteropServices;
using LLama;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// llama.cpp's own chat formatting, llama_chat_apply_template, through LLamaSharp's LLamaTemplate: no
/// Jinja, but a hand-written format per model family, chosen by name ("chatml", "llama3", …) or by
/// recognizing a template's source (llama.cpp src/llama-chat.cpp, llm_chat_detect_template). The
/// reference our Jinja interpreter is compared against for the families both know.
/// </summary>
public static class LlamaCppChatTemplate
{
    /// <summary>
    /// The prompt llama.cpp makes of <paramref name="messages"/> with the format <paramref name="nameOrSource"/>
    /// names or whose Jinja source it recognizes; <paramref name="addAssistant"/> appends the assistant header.
    /// Throws <see cref="LlamaCppException"/> when llama.cpp knows no such format.
    /// </summary>
    public static string Apply(string nameOrSource, IEnumerable<(string Role, string Content)> messages, bool addAssistant)
    {
        ArgumentNullException.ThrowIfNull(nameOrSource);
        ArgumentNullException.ThrowIfNull(messages);
        LlamaCppNative.EnsureLoaded();
        var template = new LLamaTemplate(nameOrSource) { AddAssistant = addAssistant };
        foreach (var (role, content) in messages) template.Add(role, content);
        try
        {
            return System.Text.Encoding.UTF8.GetString(template.Apply());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new LlamaCppException($"llama.cpp has no chat format for '{Shorten(nameOrSource)}': {e.Message}", inner: e);
        }
    }

    /// <summary>The names llama.cpp's built-in formats answer to (llama_chat_builtin_templates).</summary>
    public static unsafe IReadOnlyList<string> BuiltInNames()
    {
        LlamaCppNative.EnsureLoaded();
        var count = LlamaCppNativeMethods.llama_chat_builtin_templates(null, 0);
        var pointers = new byte*[Math.Max(count, 0)];
        fixed (byte** p = pointers) count = Math.Min(count, LlamaCppNativeMethods.llama_chat_builtin_templates(p, (nuint)pointers.Length));
        var names = new string[count];
        for (var i = 0; i < count; i++) names[i] = Marshal.PtrToStringUTF8((IntPtr)pointers[i]) ?? "";
        return names;
    }

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
