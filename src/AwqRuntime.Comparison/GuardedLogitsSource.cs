using AwqRuntime.Evaluation;

namespace AwqRuntime.Comparison;

/// <summary>
/// Keeps one row's failure from stopping the evaluation of the others: the first exception is kept as
/// the row's error and every later window gets uniform logits (the row's metrics are then dropped).
/// </summary>
internal sealed class GuardedLogitsSource(ILogitsSource inner) : ILogitsSource
{
    public string Name => inner.Name;

    public int VocabSize => inner.VocabSize;

    public Exception? Failure { get; private set; }

    public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits)
    {
        if (Failure == null)
        {
            try
            {
                inner.Evaluate(tokens, logits);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                Failure = e;
            }
        }
        logits[..(tokens.Length * VocabSize)].Clear();
    }
}
