namespace AwqRuntime.Fuzz;

/// <summary>
/// Decides whether a loader's reaction to a bad file is acceptable. The rule (the one `awq` promises):
/// a bad file gives one line that names the file (or its folder) and the problem — never a crash-type
/// exception (null dereference, index out of range, overflow, invalid cast, out of memory...) and never
/// a bare runtime message like "Unable to read beyond the end of the stream".
/// </summary>
public static class Oracle
{
    /// <summary>Exception types that always mean a bug in the loader, whatever their message says.</summary>
    private static readonly Type[] CrashTypes =
    [
        typeof(NullReferenceException), typeof(IndexOutOfRangeException), typeof(OverflowException), typeof(InvalidCastException),
        typeof(DivideByZeroException), typeof(OutOfMemoryException), typeof(InsufficientExecutionStackException),
        typeof(AccessViolationException), typeof(KeyNotFoundException), typeof(NotImplementedException),
        typeof(ArrayTypeMismatchException), typeof(RankException),
    ];

    public static Verdict Classify(Exception? e, IReadOnlyCollection<string> names)
    {
        if (e == null) return new Verdict(VerdictKind.Loaded, "loaded");
        if (e is AggregateException { InnerExceptions.Count: 1 } a) e = a.InnerExceptions[0];
        var type = e.GetType();
        var message = e.Message;
        var category = $"{type.Name}: {Prefix(message, names)}";
        if (CrashTypes.Any(t => t.IsAssignableFrom(type))) return new Verdict(VerdictKind.Defect, category, message);
        // ArgumentOutOfRange / ArgumentNull from the runtime (Span slicing, a null argument) are bugs; ours carry a file name.
        if (!names.Any(n => message.Contains(n, StringComparison.Ordinal)))
            return new Verdict(VerdictKind.Defect, $"unnamed {category}", message);
        if (message.Contains('\n')) return new Verdict(VerdictKind.Defect, $"multi-line {category}", message);
        return new Verdict(VerdictKind.Rejected, category, message);
    }

    /// <summary>
    /// A stable label for grouping: the message with the file names, numbers and quoted parts removed,
    /// cut at 60 characters ("…: tensor 'x' has 12 bytes" and "…: tensor 'y' has 7 bytes" group together).
    /// </summary>
    public static string Prefix(string message, IReadOnlyCollection<string> names)
    {
        var s = message;
        foreach (var n in names.OrderByDescending(n => n.Length)) s = s.Replace(n, "", StringComparison.Ordinal);
        s = System.Text.RegularExpressions.Regex.Replace(s, "'[^']*'|\"[^\"]*\"", "'…'");
        s = System.Text.RegularExpressions.Regex.Replace(s, @"-?\d[\d,.eE+-]*", "N");
        s = s.TrimStart(':', ' ', '/', '.').Trim();
        return s.Length > 60 ? s[..60] + "…" : s;
    }
}
