using AwqRuntime.Model;

namespace AwqRuntime.Evaluation;

/// <summary>
/// Anything that turns a window of token ids into next-token logits at every position: our runtime
/// (FP32 or INT4) or llama.cpp through LLamaSharp. Evaluations are written against this, so every
/// runtime is scored by the same code on the same ids.
/// </summary>
public interface ILogitsSource
{
    string Name { get; }
    int VocabSize { get; }

    /// <summary>Logits [tokens.Length, VocabSize] for a window run from an empty context.</summary>
    void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits);
}

/// <summary>Our runtime as a logits source.</summary>
public sealed class RuntimeLogitsSource(LlamaModel model, string name) : ILogitsSource
{
    private KvCache? _cache;
    private ForwardBuffers? _buffers;

    public string Name => name;
    public int VocabSize => model.Config.VocabSize;

    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        if (_cache == null || _cache.Capacity < tokens.Length)
        {
            _cache = model.CreateCache(tokens.Length);
            _buffers = model.CreateBuffers(Math.Min(tokens.Length, 512));
        }
        _cache.Clear();
        model.Forward(tokens, _cache, _buffers!, logits, LogitsMode.All);
    }
}
