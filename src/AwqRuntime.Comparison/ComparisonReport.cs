namespace AwqRuntime.Comparison;

/// <summary>The outcome of a comparison: one row per requested format, plus how and where it was measured.</summary>
public sealed record ComparisonReport(ComparisonMetadata Metadata, IReadOnlyList<ComparisonRow> Rows)
{
    public ComparisonRow? Row(string name) => Rows.FirstOrDefault(r => r.Name == name);
}
