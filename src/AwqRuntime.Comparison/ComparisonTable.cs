using Spectre.Console;

namespace AwqRuntime.Comparison;

/// <summary>The report on the terminal: the table (failed rows in red), then fallback notes and errors.</summary>
public static class ComparisonTable
{
    /// <summary>
    /// Columns dropped, in this order, until the table fits the terminal (the Markdown report and the
    /// JSON keep every column). Row, bits/weight of the linears, PPL, KLD mean and decode speed stay.
    /// </summary>
    private static readonly string[] DropOrder =
        ["RMS Δp", "KLD p99", "Runtime", "Bits/w (file)", "Format", "Prefill tok/s", "Top-1", "Size"];

    public static void Print(IAnsiConsole console, ComparisonReport report)
    {
        var m = report.Metadata;
        var rows = report.Rows.Select(r => ComparisonFormat.Cells(r).ToArray()).ToList();
        var shown = FitColumns(rows, console.Profile.Width, out var dropped, out var headers);
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{Path.GetFileName(m.Model.TrimEnd('/', '\\'))}: {m.Windows} windows × {m.Context}, {m.Threads} threads, KLD vs {m.Reference}"));
        foreach (var i in shown)
        {
            var column = new TableColumn(Markup.Escape(headers[i]));
            table.AddColumn(i < 3 ? column : column.RightAligned());
        }
        for (var k = 0; k < rows.Count; k++)
        {
            var cells = shown.Select(i => Markup.Escape(rows[k][i])).ToArray();
            if (report.Rows[k].Error != null) cells[0] = $"[red]{cells[0]}[/]";
            table.AddRow(cells);
        }
        console.Write(table);
        if (dropped.Count > 0)
            console.MarkupLine($"[grey]{Markup.Escape($"left out to fit {console.Profile.Width} columns: {string.Join(", ", dropped)} (the Markdown report has every column)")}[/]");

        foreach (var r in report.Rows.Where(r => r.Notes.Count > 0))
            foreach (var note in r.Notes)
                console.MarkupLine($"[grey]{Markup.Escape(r.Name)}:[/] {Markup.Escape(note)}");
        foreach (var r in report.Rows.Where(r => r.Error != null))
            console.MarkupLine($"[red]{Markup.Escape(r.Name)} failed:[/] {Markup.Escape(r.Error!)}");
    }

    /// <summary>Shorter headers for a terminal too narrow even for the kept columns (80 columns).</summary>
    private static readonly Dictionary<string, string> Short = new(StringComparer.Ordinal)
    {
        ["Bits/w (linears)"] = "bpw", ["KLD mean"] = "KLD", ["Decode tok/s"] = "tg t/s", ["Prefill tok/s"] = "pp t/s",
    };

    /// <summary>
    /// The indices of the columns to show so that the table is at most <paramref name="width"/> characters
    /// wide: each column takes its widest cell or header plus 3 (padding and rule) and the table 1 more.
    /// Columns go in <see cref="DropOrder"/>; if the rest is still too wide, headers are shortened.
    /// </summary>
    internal static IReadOnlyList<int> FitColumns(IReadOnlyList<string[]> rows, int width, out List<string> dropped, out string[] headers)
    {
        var columns = ComparisonFormat.Columns;
        headers = columns.ToArray();
        var h = headers;
        int Width(int i) => Math.Max(h[i].Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)) + 3;
        var shown = Enumerable.Range(0, columns.Count).ToList();
        dropped = [];
        foreach (var name in DropOrder)
        {
            if (shown.Sum(Width) + 1 <= width) break;
            shown.Remove(columns.ToList().IndexOf(name));
            dropped.Add(name);
        }
        if (shown.Sum(Width) + 1 > width)
            foreach (var i in shown)
                if (Short.TryGetValue(headers[i], out var abbreviation)) headers[i] = abbreviation;
        return shown;
    }
}
