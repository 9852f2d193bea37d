namespace AwqRuntime.Comparison;

/// <summary>A step of a comparison, for progress displays. Milestones (a row built, failed, evaluated) are worth a line.</summary>
public sealed record ComparisonProgress(string Message, double? Fraction = null, bool IsMilestone = false);
