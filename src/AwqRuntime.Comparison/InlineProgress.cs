namespace AwqRuntime.Comparison;

/// <summary>Reports on the calling thread (Progress&lt;T&gt; posts to the thread pool, too late for a live display).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
