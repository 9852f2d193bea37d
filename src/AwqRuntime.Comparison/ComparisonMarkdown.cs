using System.Globalization;
using System.Text;

namespace AwqRuntime.Comparison;

/// <summary>The report as Markdown: the table, then how it was measured (command, machine, threads, date) and per-row notes and errors.</summary>
public static class ComparisonMarkdown
{
    public static string Write(ComparisonReport report, string? plotFileName = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var m = report.Metadata;
        var sb = new StringBuilder();
        sb.AppendLine($"# AWQ vs llama.cpp: {Path.GetFileName(m.Model.TrimEnd('/', '\\'))}");
        sb.AppendLine();
        sb.AppendLine(Table(report));
        if (plotFileName != null)
        {
            sb.AppendLine($"![KL divergence against bits per weight]({plotFileName})");
            sb.AppendLine();
        }

        sb.AppendLine("## How this was measured");
        sb.AppendLine();
        if (m.CommandLine != null) sb.AppendLine($"- Command: `{m.CommandLine}`");
        sb.AppendLine($"- Model: `{m.Model}`" + (m.Tokenizer != null ? $", tokenizer `{m.Tokenizer}`" : ""));
        sb.AppendLine(Invariant($"- Evaluation: `{m.EvalText}`, {m.EvalTokens:N0} tokens, {m.Windows} windows of {m.Context}, {m.ScoredTokens:N0} scored tokens; reference: {m.Reference}"));
        if (m.CalibrationSamples > 0)
            sb.AppendLine($"- Calibration: `{m.CalibrationText}`, {m.CalibrationSamples} × {m.CalibrationSeqLen} tokens");
        sb.AppendLine($"- Threads: {m.Threads} (both runtimes); speed: median of {m.SpeedRuns} runs after a warm-up, prefill {m.SpeedPromptTokens} tokens, decode {m.SpeedDecodeTokens} tokens" +
            (m.LoadAverageBeforeSpeed is { } before && m.LoadAverageAfterSpeed is { } after
                ? Invariant($"; 1-minute load average {before:F2} before and {after:F2} after the speed runs ({m.Machine.LogicalCores} cores)")
                : ""));
        sb.AppendLine($"- Machine: {m.Machine}; our SIMD path: {m.Machine.OursSimdPath}");
        sb.AppendLine(Invariant($"- Date: {m.Date:yyyy-MM-dd HH:mm zzz}") + (m.GitCommit != null ? $", commit `{m.GitCommit}`" : "") +
            Invariant($", {m.Elapsed.TotalMinutes:F1} min in all"));
        foreach (var note in m.Notes) sb.AppendLine($"- {note}");
        sb.AppendLine();

        var noted = report.Rows.Where(r => r.Notes.Count > 0 || r.TensorTypes != null).ToList();
        if (noted.Count > 0)
        {
            sb.AppendLine("## Fallbacks and tensor types");
            sb.AppendLine();
            foreach (var r in noted)
            {
                var types = r.TensorTypes is { Count: > 0 } t ? "tensor types " + string.Join(", ", t.Select(kv => $"{kv.Key} ×{kv.Value}")) : null;
                sb.AppendLine($"- **{r.Name}**: " + string.Join("; ", new[] { types }.Concat(r.Notes).Where(s => s != null)));
            }
            sb.AppendLine();
        }

        var failed = report.Rows.Where(r => r.Error != null).ToList();
        if (failed.Count > 0)
        {
            sb.AppendLine("## Rows that failed");
            sb.AppendLine();
            foreach (var r in failed) sb.AppendLine($"- **{r.Name}**: {r.Error}");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>Only the Markdown table.</summary>
    public static string Table(ComparisonReport report)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", ComparisonFormat.Columns) + " |");
        // Text columns left, numbers right.
        sb.AppendLine("|" + string.Join("|", ComparisonFormat.Columns.Select((_, i) => i < 3 ? "---" : "---:")) + "|");
        foreach (var r in report.Rows)
            sb.AppendLine("| " + string.Join(" | ", ComparisonFormat.Cells(r).Select(Escape)) + " |");
        return sb.ToString();
    }

    private static string Escape(string cell) => cell.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
