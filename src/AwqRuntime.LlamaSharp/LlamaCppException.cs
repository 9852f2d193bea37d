namespace AwqRuntime.LlamaSharp;

/// <summary>
/// llama.cpp (through LLamaSharp) could not do what was asked: the native library did not load, a
/// model file is missing or refused, or a decode failed. The message names the file and carries the
/// warning/error lines llama.cpp logged while it tried, since llama.cpp reports its reasons only there.
/// </summary>
public sealed class LlamaCppException : Exception
{
    public LlamaCppException(string message, string? filePath = null, IReadOnlyList<string>? nativeLog = null, Exception? inner = null)
        : base(Compose(message, nativeLog), inner)
    {
        FilePath = filePath;
        NativeLog = nativeLog ?? [];
    }

    /// <summary>The model file the failed operation was about, when there is one.</summary>
    public string? FilePath { get; }

    /// <summary>Warning and error lines llama.cpp logged during the failed operation.</summary>
    public IReadOnlyList<string> NativeLog { get; }

    private static string Compose(string message, IReadOnlyList<string>? nativeLog) =>
        nativeLog is { Count: > 0 } ? $"{message} (llama.cpp: {string.Join(" | ", nativeLog)})" : message;
}
