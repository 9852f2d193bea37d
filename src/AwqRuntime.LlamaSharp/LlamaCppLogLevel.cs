namespace AwqRuntime.LlamaSharp;

/// <summary>Severity of a llama.cpp log line (ggml_log_level without the "continue" pseudo-level).</summary>
public enum LlamaCppLogLevel
{
    Debug,
    Info,
    Warning,
    Error,
}
