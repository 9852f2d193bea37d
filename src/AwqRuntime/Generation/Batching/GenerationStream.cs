using System.Threading.Channels;

namespace AwqRuntime.Generation.Batching;

/// <summary>
/// One submitted request's output: the chunks as the scheduler produces them (a channel the
/// scheduler writes and the caller reads), then the statistics. Reading is the caller's pace; the
/// scheduler never waits for it.
/// </summary>
public sealed class GenerationStream
{
    private readonly Channel<GenerationChunk> _chunks = Channel.CreateUnbounded<GenerationChunk>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<GenerationStats> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal GenerationStream(int promptTokens) => PromptTokens = promptTokens;

    public int PromptTokens { get; }

    /// <summary>The chunks, in order; completes when generation ends (with the error, if it failed).</summary>
    public ChannelReader<GenerationChunk> Chunks => _chunks.Reader;

    /// <summary>Counts, timings and why it stopped; faults when generation failed.</summary>
    public Task<GenerationStats> Completion => _done.Task;

    public IAsyncEnumerable<GenerationChunk> ReadAllAsync(CancellationToken cancel = default) => _chunks.Reader.ReadAllAsync(cancel);

    internal void Write(GenerationChunk chunk) => _chunks.Writer.TryWrite(chunk);

    internal void Complete(GenerationStats stats)
    {
        _chunks.Writer.TryComplete();
        _done.TrySetResult(stats);
    }

    internal void Fail(Exception e)
    {
        _chunks.Writer.TryComplete(e);
        _done.TrySetException(e);
    }
}
