namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Receives the logits of one position (n_vocab floats) from a streaming evaluation. The span points
/// into llama.cpp's output buffer and is valid only during the call: copy what you need to keep.
/// </summary>
public delegate void LogitsRowHandler(int position, ReadOnlySpan<float> logits);
