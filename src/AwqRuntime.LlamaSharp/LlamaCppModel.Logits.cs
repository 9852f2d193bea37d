using LLama.Native;

namespace AwqRuntime.LlamaSharp;

// Teacher-forced evaluation: logits for every position of a token sequence.
public sealed partial class LlamaCppModel
{
    /// <summary>
    /// Logits after each token of <paramref name="tokens"/>, fed at positions 0..n-1 into an empty KV
    /// cache: a row-major [n × VocabSize] array whose row i predicts token i+1.
    /// </summary>
    public float[] EvaluateLogits(ReadOnlySpan<int> tokens)
    {
        var vocab = VocabSize;
        var logits = new float[checked(tokens.Length * vocab)];
        EvaluateLogits(tokens, (position, row) => row.CopyTo(logits.AsSpan(position * vocab, vocab)));
        return logits;
    }

    /// <summary>
    /// Streaming form of <see cref="EvaluateLogits(ReadOnlySpan{int})"/>: <paramref name="onRow"/> gets each
    /// position's logits in order, so nothing of size n × vocab is held. The KV cache is cleared first;
    /// the tokens go through llama_decode in chunks of <see cref="BatchSize"/>, every position with
    /// logits requested.
    /// </summary>
    public void EvaluateLogits(ReadOnlySpan<int> tokens, LogitsRowHandler onRow)
    {
        ArgumentNullException.ThrowIfNull(onRow);
        ThrowIfDisposed();
        ValidateTokens(tokens, nameof(tokens));
        if (tokens.Length > ContextSize)
            throw new ArgumentException($"{tokens.Length} tokens do not fit the context ({ContextSize}); load with a larger ContextSize", nameof(tokens));

        var ctx = _context.NativeHandle;
        ctx.MemoryClear(true);
        for (var start = 0; start < tokens.Length; start += BatchSize)
        {
            var count = Math.Min(BatchSize, tokens.Length - start);
            _batch.Clear();
            for (var i = 0; i < count; i++)
                _batch.Add(tokens[start + i], start + i, LLamaSeqId.Zero, true);
            Decode(start, count);
            for (var i = 0; i < count; i++)
                onRow(start + i, ctx.GetLogitsIth(i));
        }
    }

    /// <summary>Runs llama_decode on the prepared batch, turning a failure into a LlamaCppException.</summary>
    private void Decode(int firstPosition, int count)
    {
        using var capture = LlamaCppLog.BeginCapture();
        var result = _context.NativeHandle.Decode(_batch);
        if (result != DecodeResult.Ok)
            throw new LlamaCppException(
                $"llama_decode failed ({result}) for positions {firstPosition}..{firstPosition + count - 1} of '{Path}'",
                Path, capture.ErrorsWithContext());
    }
}
