using Spectre.Console;

namespace AwqRuntime.Comparison;

/// <summary>The report on the terminal: the table (failed rows in red), then fallback notes and errors.</summary>
public static class ComparisonTable
{
    public static void Print(IAnsiConsole console, ComparisonReport report)
    {
        var m = report.Metadata;
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{Path.GetFileName(m.Model.TrimEnd('/', '\\'))}: {m.Windows} windows × {m.Context}, {m.Threads} threads, KLD vs {m.Reference}"));
        for (var i = 0; i < ComparisonFormat.Columns.Count; i++)
        {
            var column = new TableColumn(Markup.Escape(ComparisonFormat.Columns[i]));
            table.AddColumn(i < 3 ? column : column.RightAligned());
        }
        foreach (var r in report.Rows)
        {
            var cells = ComparisonFormat.Cells(r).Select(c => Markup.Escape(c)).ToArray();
            if (r.Error != null) cells[0] = $"[red]{cells[0]}[/]";
            table.AddRow(cells);
        }
        console.Write(table);

        foreach (var r in report.Rows.Where(r => r.Notes.Count > 0))
            foreach (var note in r.Notes)
                console.MarkupLine($"[grey]{Markup.Escape(r.Name)}:[/] {Markup.Escape(note)}");
        foreach (var r in report.Rows.Where(r => r.Error != null))
            console.MarkupLine($"[red]{Markup.Escape(r.Name)} failed:[/] {Markup.Escape(r.Error!)}");
    }
}
