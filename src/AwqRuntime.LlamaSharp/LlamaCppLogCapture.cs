namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Warning and error lines llama.cpp logged while one operation ran. llama.cpp's log callback is
/// process-wide, so lines logged concurrently by another model in the same process land here too;
/// they are only ever quoted in messages, never parsed for decisions.
/// </summary>
internal sealed class LlamaCppLogCapture : IDisposable
{
    private readonly List<(LlamaCppLogLevel Level, string Line)> _lines = [];

    internal void Add(LlamaCppLogLevel level, string line)
    {
        lock (_lines) _lines.Add((level, line));
    }

    public IReadOnlyList<string> Errors => Select(l => l == LlamaCppLogLevel.Error);

    public IReadOnlyList<string> Warnings => Select(l => l == LlamaCppLogLevel.Warning);

    /// <summary>Error lines, preceded by the last warning before the first error (usually its cause).</summary>
    public IReadOnlyList<string> ErrorsWithContext()
    {
        lock (_lines)
        {
            var firstError = _lines.FindIndex(l => l.Level == LlamaCppLogLevel.Error);
            if (firstError < 0) return [];
            var result = new List<string>();
            var cause = _lines.FindLastIndex(firstError, l => l.Level == LlamaCppLogLevel.Warning);
            if (cause >= 0) result.Add(_lines[cause].Line);
            result.AddRange(_lines.Skip(firstError).Where(l => l.Level == LlamaCppLogLevel.Error).Select(l => l.Line));
            return result;
        }
    }

    private List<string> Select(Func<LlamaCppLogLevel, bool> keep)
    {
        lock (_lines) return _lines.Where(l => keep(l.Level)).Select(l => l.Line).ToList();
    }

    public void Dispose() => LlamaCppLog.EndCapture(this);
}
