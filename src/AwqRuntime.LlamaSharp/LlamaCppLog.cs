using System.Text;
using LLama.Native;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Where llama.cpp's log goes. By default nothing is printed (llama.cpp otherwise writes hundreds of
/// loader lines to stderr, which would bury CLI output); warnings and errors are still captured per
/// operation so exceptions and results can quote them. Set <see cref="Listener"/> to see every line.
/// </summary>
public static class LlamaCppLog
{
    private static readonly object Gate = new();
    private static readonly List<LlamaCppLogCapture> ActiveCaptures = [];

    // llama.cpp sends a line in pieces (a fragment, then GGML_LOG_LEVEL_CONT pieces, or a fragment
    // followed directly by a message of another level); pieces are joined per thread into lines.
    [ThreadStatic] private static StringBuilder? _pending;
    [ThreadStatic] private static LlamaCppLogLevel _pendingLevel;

    /// <summary>
    /// Receives every complete llama.cpp log line (no trailing newline), from whichever thread logged
    /// it. Exceptions thrown by the listener are swallowed: they cannot unwind through native frames.
    /// </summary>
    public static Action<LlamaCppLogLevel, string>? Listener { get; set; }

    /// <summary>Starts collecting warning and error lines until the capture is disposed.</summary>
    internal static LlamaCppLogCapture BeginCapture()
    {
        var capture = new LlamaCppLogCapture();
        lock (Gate) ActiveCaptures.Add(capture);
        return capture;
    }

    internal static void EndCapture(LlamaCppLogCapture capture)
    {
        FlushPending();
        lock (Gate) ActiveCaptures.Remove(capture);
    }

    /// <summary>The callback registered with llama.cpp (through LLamaSharp's NativeLogConfig).</summary>
    internal static void OnNativeMessage(LLamaLogLevel level, string message)
    {
        try
        {
            var pending = _pending ??= new StringBuilder();
            if (level != LLamaLogLevel.Continue)
            {
                if (pending.Length > 0) FlushPending();
                _pendingLevel = level switch
                {
                    LLamaLogLevel.Debug => LlamaCppLogLevel.Debug,
                    LLamaLogLevel.Warning => LlamaCppLogLevel.Warning,
                    LLamaLogLevel.Error => LlamaCppLogLevel.Error,
                    _ => LlamaCppLogLevel.Info,
                };
            }
            pending.Append(message);
            int newline;
            while ((newline = IndexOfNewline(pending)) >= 0)
            {
                var line = pending.ToString(0, newline);
                pending.Remove(0, newline + 1);
                Emit(_pendingLevel, line);
            }
        }
        catch
        {
            // Never let an exception reach llama.cpp's native frames.
        }
    }

    private static void FlushPending()
    {
        var pending = _pending;
        if (pending is not { Length: > 0 }) return;
        var line = pending.ToString();
        pending.Clear();
        Emit(_pendingLevel, line);
    }

    private static void Emit(LlamaCppLogLevel level, string line)
    {
        line = line.TrimEnd();
        if (line.Length == 0) return;
        try { Listener?.Invoke(level, line); }
        catch { /* see Listener */ }
        if (level < LlamaCppLogLevel.Warning) return;
        lock (Gate)
            foreach (var capture in ActiveCaptures) capture.Add(level, line);
    }

    private static int IndexOfNewline(StringBuilder sb)
    {
        for (var i = 0; i < sb.Length; i++)
            if (sb[i] == '\n') return i;
        return -1;
    }
}
