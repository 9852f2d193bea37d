using AwqRuntime.Evaluation;

namespace AwqRuntime.LlamaSharp;

/// <summary>llama.cpp (a loaded GGUF) as a logits source, so it is scored by the same code on the same ids as our runtime.</summary>
public sealed class LlamaCppLogitsSource(LlamaCppModel model, string name) : ILogitsSource
{
    private float[] _rows = [];

    public string Name => name;

    public int VocabSize => model.VocabSize;

    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        var v = VocabSize;
        if (logits.Length < tokens.Length * v) throw new ArgumentException($"logits buffer holds {logits.Length} values, needs {tokens.Length * v}");
        // The streaming overload hands out llama.cpp's own buffer row by row; a span cannot be
        // captured by the callback, so rows land in a reused array first.
        if (_rows.Length < tokens.Length * v) _rows = new float[tokens.Length * v];
        var rows = _rows;
        model.EvaluateLogits(tokens, (position, row) => row.CopyTo(rows.AsSpan(position * v, v)));
        rows.AsSpan(0, tokens.Length * v).CopyTo(logits);
    }
}
