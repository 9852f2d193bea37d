namespace AwqRuntime.Fuzz;

/// <summary>Counts per target and category, the regression results and the findings of one run (printed as a table or JSON).</summary>
public sealed class FuzzReport
{
    public sealed class TargetStats
    {
        public long Cases { get; set; }
        public long Loaded { get; set; }
        public long Rejected { get; set; }
        public long Defects { get; set; }
        public SortedDictionary<string, long> Categories { get; } = new(StringComparer.Ordinal);
    }

    public sealed record RegressionResult(string Name, string Target, string Verdict, string Category, bool Ok);

    public sealed record Finding(string Target, long Index, string Mutation, string Category, string? Message, string? Saved);

    public int Seed { get; init; }
    public double Seconds { get; set; }
    public SortedDictionary<string, TargetStats> Targets { get; } = new(StringComparer.Ordinal);
    public List<RegressionResult> RegressionResults { get; } = [];
    public List<Finding> Findings { get; } = [];
    public int OpenFilesBefore { get; set; }
    public int OpenFilesAfter { get; set; }
    public double PeakRssMiB { get; set; }
    public bool Hung { get; set; }

    public long TotalCases => Targets.Values.Sum(t => t.Cases);

    public bool Passed => !Hung && Findings.Count == 0 && RegressionResults.All(r => r.Ok) && !LeakedFiles;

    /// <summary>Open descriptors grew by more than a few over the run: a loader leaks a handle or a mapping on some error path.</summary>
    public bool LeakedFiles => OpenFilesAfter - OpenFilesBefore > 16;

    public void Count(string target, Verdict v)
    {
        if (!Targets.TryGetValue(target, out var s)) Targets[target] = s = new TargetStats();
        s.Cases++;
        switch (v.Kind)
        {
            case VerdictKind.Loaded: s.Loaded++; break;
            case VerdictKind.Rejected: s.Rejected++; break;
            default: s.Defects++; break;
        }
        s.Categories[v.Category] = s.Categories.GetValueOrDefault(v.Category) + 1;
    }

    /// <summary>One line for --quiet: what ran and what it found.</summary>
    public string SummaryLine() =>
        $"fuzz: {TotalCases:N0} cases over {Targets.Count} targets and {RegressionResults.Count(r => r.Ok)}/{RegressionResults.Count} regression cases ok, " +
        $"{Findings.Count} findings, {Seconds:F0} s (seed {Seed})";

    public void Print(TextWriter w)
    {
        w.WriteLine($"{"target",-20} {"cases",8} {"loaded",8} {"rejected",9} {"findings",9} {"kinds",6}");
        foreach (var (name, s) in Targets)
            w.WriteLine($"{name,-20} {s.Cases,8:N0} {s.Loaded,8:N0} {s.Rejected,9:N0} {s.Defects,9:N0} {s.Categories.Count,6}");
        w.WriteLine($"{"total",-20} {TotalCases,8:N0} {Targets.Values.Sum(t => t.Loaded),8:N0} {Targets.Values.Sum(t => t.Rejected),9:N0} {Targets.Values.Sum(t => t.Defects),9:N0}");
        w.WriteLine($"regressions: {RegressionResults.Count(r => r.Ok)}/{RegressionResults.Count} ok; open files {OpenFilesBefore} -> {OpenFilesAfter}; peak RSS {PeakRssMiB:F0} MiB; {Seconds:F0} s");
        foreach (var r in RegressionResults.Where(r => !r.Ok)) w.WriteLine($"regression FAILED: {r.Name} ({r.Target}): {r.Verdict} {r.Category}");
        foreach (var f in Findings)
            w.WriteLine($"finding: {f.Target}:{f.Index} {f.Category}\n  mutation: {f.Mutation}\n  message: {f.Message}\n  case: {f.Saved}");
        if (LeakedFiles) w.WriteLine($"finding: open file descriptors grew from {OpenFilesBefore} to {OpenFilesAfter}");
    }
}
