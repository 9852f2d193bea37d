using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AwqRuntime.Numerics;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq inspect --params N`: bytes per number format for a model of N parameters.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var parameters = new Option<string>("--params")
        {
            Description = "Parameter count for the memory table, e.g. 13e9 or 7000000000",
        };
        var json = new Option<bool>("--json") { Description = "Print the table as JSON" };
        var threads = CliOptions.Threads();
        var cmd = new Command("inspect", "Show memory needed per number format (--params N)") { parameters, threads, json };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads)); // accepted and checked like everywhere; the table computes nothing in parallel
            var text = parse.GetValue(parameters);
            if (text is null) throw new ArgumentException("inspect: give --params N (for example --params 13e9)");
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || !(n > 0) || double.IsInfinity(n))
                throw new ArgumentException($"inspect: --params '{text}' is not a positive number");
            PrintTable(n, parse.GetValue(json));
            return 0;
        }));
        return cmd;
    }

    private static void PrintTable(double n, bool asJson)
    {
        var rows = MemoryFootprint.StandardFormats;
        if (asJson)
        {
            var data = rows.Select(r => new { format = r.Name, bits_per_weight = r.BitsPerWeight, bytes = r.Bytes(n), note = r.Note });
            Console.WriteLine(JsonSerializer.Serialize(new { parameters = n, formats = data }, new JsonSerializerOptions { WriteIndented = true }));
            return;
        }
        var table = new Table().Title($"Weights of a {n.ToString("G4", CultureInfo.InvariantCulture)}-parameter model");
        table.AddColumn("format");
        table.AddColumn(new TableColumn("bits/weight").RightAligned());
        table.AddColumn(new TableColumn("GB (1e9 B)").RightAligned());
        table.AddColumn(new TableColumn("GiB").RightAligned());
        table.AddColumn("note");
        foreach (var r in rows)
        {
            var bytes = r.Bytes(n);
            table.AddRow(r.Name, r.BitsPerWeight.ToString("0.###", CultureInfo.InvariantCulture),
                (bytes / 1e9).ToString("0.###", CultureInfo.InvariantCulture),
                (bytes / (1024.0 * 1024 * 1024)).ToString("0.###", CultureInfo.InvariantCulture), Markup.Escape(r.Note));
        }
        AnsiConsole.Write(table);
    }
}
