namespace AwqRuntime.Comparison;

/// <summary>The outcome of a comparison: one row per requested format, plus how and where it was measured.</summary>
public sealed record ComparisonReport(ComparisonMetadata Metadata, IReadOnlyList<ComparisonRow> Rows)
{
    public ComparisonRow? Row(string name) => Rows.FirstOrDefault(r => r.Name == name);

    /// <summary>Names of the rows that could not be built or run (their <see cref="ComparisonRow.Error"/> says why); in the JSON as failed_rows.</summary>
    public IReadOnlyList<string> FailedRows => Rows.Where(r => r.Error != null).Select(r => r.Name).ToList();

    /// <summary>"2 of 9 rows failed: Q2_K, AWQ g32", or null when every row ran.</summary>
    public string? FailureSummary => FailedRows is { Count: > 0 } f ? $"{f.Count} of {Rows.Count} rows failed: {string.Join(", ", f)}" : null;
}
