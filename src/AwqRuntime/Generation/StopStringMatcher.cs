namespace AwqRuntime.Generation;

/// <summary>
/// Holds back streamed text that might be the start of a stop string, so a caller never prints
/// half of "User:" before learning it was a stop. Feed decoded text pieces in order; each call
/// returns the text that is now safe to emit, and <see cref="Stopped"/> turns true when a stop
/// string completes (the stop string itself and anything after it are never emitted).
/// </summary>
public sealed class StopStringMatcher(IReadOnlyList<string> stops)
{
    private readonly string[] _stops = stops.Where(s => s.Length > 0).ToArray();
    private string _pending = "";

    public bool Stopped { get; private set; }

    public string Push(string piece)
    {
        if (Stopped) return "";
        var text = _pending + piece;
        var cut = int.MaxValue;
        foreach (var s in _stops)
        {
            var i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0) cut = Math.Min(cut, i);
        }
        if (cut != int.MaxValue)
        {
            Stopped = true;
            _pending = "";
            return text[..cut];
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        var hold = 0;
        foreach (var s in _stops)
            for (var len = Math.Min(s.Length - 1, text.Length); len > hold; len--)
                if (string.CompareOrdinal(text, text.Length - len, s, 0, len) == 0) { hold = len; break; }
        _pending = text[^hold..];
        return text[..^hold];
    }

    /// <summary>Text still held back when generation ends for another reason.</summary>
    public string Flush()
    {
        var rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }
}
