using System.Buffers.Binary;
using AwqRuntime.Cli.Commands;
using AwqRuntime.Comparison;
using AwqRuntime.Quantization;
using AwqRuntime.Tests.Formats;
using Spectre.Console;

namespace AwqRuntime.Tests.Compare;

/// <summary>The report's outputs: Markdown, JSON, the terminal table, the PNG, and --rows.</summary>
public class ComparisonOutputTests
{
    [Fact]
    public void Markdown_has_a_table_line_for_every_row_and_the_provenance()
    {
        var report = ReportSample.Create();
        var md = ComparisonMarkdown.Write(report, "report.png");
        var tableLines = md.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        Assert.Equal(report.Rows.Count + 1, tableLines.Count); // + header
        foreach (var r in report.Rows)
            Assert.Contains(tableLines, l => l.StartsWith($"| {r.Name} |", StringComparison.Ordinal) || l.StartsWith($"| {r.Name} (failed) |", StringComparison.Ordinal));
        var columns = tableLines[0].Count(ch => ch == '|');
        Assert.All(tableLines, l => Assert.Equal(columns, l.Replace("\\|", "", StringComparison.Ordinal).Count(ch => ch == '|')));
        Assert.Contains("| AWQ g32 | ours | INT4 g32 (AutoAWQ GEMM) |", md);
        Assert.Contains("| 4.40e-12 |", md);
        Assert.Contains("| 0.0735 |", md);
        Assert.Contains("`awq compare stories260K.bin --data eval.txt`", md);
        Assert.Contains("Threads: 2", md);
        Assert.Contains("Test CPU, 2 logical cores", md);
        Assert.Contains("2026-11-26", md);
        Assert.Contains("commit `abc123`", md);
        Assert.Contains("![KL divergence against bits per weight](report.png)", md);
        Assert.Contains("**Q4_0**: kept at F16 by a tensor-type override: ffn_down ×5", md);
        Assert.Contains("**Q4_K_M**: tensor types Q5_0 ×29, F32 ×11; llama.cpp fell back", md);
        Assert.Contains("## Rows that failed", md);
        Assert.Contains("**Q9_9**: build: unknown quantization type 'Q9_9' | with a pipe", md);
    }

    [Fact]
    public void Json_round_trips_every_row_with_nulls_for_what_was_not_measured()
    {
        var report = ReportSample.Create();
        var json = ComparisonJson.Serialize(report);
        Assert.Contains("\"mean_kld\": 0.0735", json);
        Assert.Contains("\"kind\": \"AwqScaledLlamaCpp\"", json);
        Assert.Contains("\"Q5_0\": 29", json); // ggml type names are not snake-cased
        var back = ComparisonJson.Deserialize(json);
        Assert.Equal(report.Rows.Select(r => r.Name), back.Rows.Select(r => r.Name));
        Assert.Equal(report.Rows.Select(r => r.MeanKld), back.Rows.Select(r => r.MeanKld));
        Assert.Equal(report.Rows.Select(r => r.Kind), back.Rows.Select(r => r.Kind));
        var failed = back.Row("Q9_9")!;
        Assert.Null(failed.Perplexity);
        Assert.Null(failed.FileBytes);
        Assert.StartsWith("build: unknown quantization type", failed.Error);
        Assert.Equal(report.Metadata.Machine, back.Metadata.Machine);
        Assert.Equal(259, back.Metadata.Windows);
    }

    [Fact]
    public void Terminal_table_shows_every_row_its_notes_and_its_errors()
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 400;
        var report = ReportSample.Create();
        ComparisonTable.Print(console, report);
        var output = writer.ToString();
        foreach (var r in report.Rows) Assert.Contains(r.Name, output);
        Assert.Contains("Q9_9 failed: build: unknown quantization type", output);
        Assert.Contains("Q4_0: kept at F16 by a tensor-type override", output);
        Assert.Contains("0.0735", output);
    }

    /// <summary>A 100-column terminal: no line is wider, no number is split, the key columns stay and what was left out is said.</summary>
    [Theory]
    [InlineData(100)]
    [InlineData(80)]
    [InlineData(400)]
    public void The_table_fits_the_terminal_by_leaving_out_columns(int width)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;
        var report = ReportSample.Create();
        ComparisonTable.Print(console, report);
        var lines = writer.ToString().Split('\n');
        var tableLines = lines.TakeWhile(l => !l.StartsWith("left out", StringComparison.Ordinal)).Where(l => l.Contains('│')).ToList();
        Assert.All(tableLines, l => Assert.True(l.TrimEnd().Length <= width, $"{l.TrimEnd().Length} > {width}: {l}"));
        // Every row is on one line: its name and its KLD mean are on the same line.
        foreach (var r in report.Rows.Where(r => r.MeanKld != null))
            Assert.Contains(tableLines, l => l.Contains(r.Name, StringComparison.Ordinal) && l.Contains(ComparisonFormat.Small(r.MeanKld), StringComparison.Ordinal));
        // Kept: PPL, KLD mean and decode speed (with short headers on an 80-column terminal).
        foreach (var kept in width > 80 ? new[] { "PPL", "KLD mean", "Decode tok/s" } : ["PPL", "KLD", "tg t/s"])
            Assert.Contains(tableLines, l => l.Contains(kept, StringComparison.Ordinal));
        var note = lines.FirstOrDefault(l => l.StartsWith("left out", StringComparison.Ordinal));
        if (width >= 400) Assert.Null(note);
        else
        {
            Assert.NotNull(note);
            Assert.Contains("RMS Δp", note);
            Assert.DoesNotContain(tableLines, l => l.Contains("RMS Δp", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Plot_is_a_png_with_one_point_per_quantized_row()
    {
        var report = ReportSample.Create();
        var plotted = ComparisonPlot.Plotted(report).Select(r => r.Name).ToList();
        // Full-precision rows are written in the caption, failed rows cannot be drawn.
        Assert.Equal(report.Rows.Count - 3, plotted.Count);
        Assert.DoesNotContain("FP32 (ours)", plotted);
        Assert.DoesNotContain("F32 (llama.cpp)", plotted);
        Assert.DoesNotContain("Q9_9", plotted);

        using var dir = new TempDir("plot");
        var path = dir.File("sub/report.png");
        ComparisonPlot.Save(report, path);
        PngAssert.IsPng(path, ComparisonPlot.Width, ComparisonPlot.Height);
    }

    [Fact]
    public void Rows_option_accepts_default_names_types_and_prefixed_forms()
    {
        Assert.Same(ComparisonRowSpec.Defaults, CompareCommand.ParseRows(null));
        var rows = CompareCommand.ParseRows(["AWQ g32,q4_0", "IQ4_NL", "rtn:g128", "awq-scaled:q4_k_m", "awq-compat:g64", "fp32", "f32", "imatrix:iq4_xs"]);
        Assert.Equal(
            ["FP32 (ours)", "AWQ g32", "Q4_0", "IQ4_NL", "RTN g128", "AWQ-scaled Q4_K_M", "AWQ g64 llama.cpp-compatible", "F32 (llama.cpp)", "IQ4_XS + imatrix"],
            rows.Select(r => r.Name).ToArray());
        Assert.Equal(ComparisonRowKind.LlamaCppImatrix, rows[8].Kind);
        Assert.Equal(ComparisonRowKind.LlamaCppQuantized, rows[3].Kind);
        Assert.Equal(128, rows[4].GroupSize);
        var e = Assert.Throws<ArgumentException>(() => CompareCommand.ParseRows(["Q9_9"]));
        Assert.Contains("Q9_9", e.Message);
        Assert.Throws<ArgumentException>(() => CompareCommand.ParseRows(["awq:32"]));
        var methods = CompareCommand.ParseRows(["gptq:g32,awq+gptq:g64", "qat:g32", "w8a8-dynamic", "w8a8-static:percentile"]);
        Assert.Equal(["FP32 (ours)", "GPTQ g32", "AWQ+GPTQ g64", "QAT g32", "W8A8 dynamic", "W8A8 static (percentile)"], methods.Select(r => r.Name).ToArray());
        Assert.Equal([AwqRuntime.Quantization.QuantMethod.Gptq, AwqRuntime.Quantization.QuantMethod.AwqGptq, AwqRuntime.Quantization.QuantMethod.Qat, AwqRuntime.Quantization.QuantMethod.W8A8Dynamic, AwqRuntime.Quantization.QuantMethod.W8A8Static],
            methods.Skip(1).Select(r => r.Method).ToArray());
        Assert.All(methods.Skip(1), r => Assert.Equal(ComparisonRowKind.OursMethod, r.Kind));
        Assert.Equal(64, methods[2].GroupSize);
        Assert.Equal(AwqRuntime.Quantization.Observers.ObserverKind.Percentile, methods[5].Observer);
        Assert.Contains("--observer 'bogus'", Assert.Throws<ArgumentException>(() => CompareCommand.ParseRows(["w8a8-static:bogus"])).Message);
        Assert.Throws<ArgumentException>(() => CompareCommand.ParseRows(["qat:32"]));
        var compat = CompareCommand.ParseRows(["qat-compat:g64"])[1];
        Assert.True(compat.KeepsUnsplittableInFp16);
        Assert.Equal((AwqRuntime.Quantization.QuantMethod.Qat, 64, "QAT"), (compat.Method, compat.GroupSize, compat.MethodLabel));
    }

    [Fact]
    public void Rows_option_accepts_a_weight_width_for_awq_and_rtn()
    {
        var rows = CompareCommand.ParseRows(["awq:g32:w3,rtn:g32:w3", "awq:g64:w2", "RTN:G32:W8", "awq:g32:w4", "rtn:g128", "gptq:g32:w3", "awq+gptq:g64:w8"]);
        Assert.Equal(["FP32 (ours)", "AWQ w3 g32", "RTN w3 g32", "AWQ w2 g64", "RTN w8 g32", "AWQ g32", "RTN g128", "GPTQ w3 g32", "AWQ+GPTQ w8 g64"], rows.Select(r => r.Name).ToArray());
        Assert.Equal([4, 3, 3, 2, 8, 4, 4, 3, 8], rows.Select(r => r.WBit).ToArray());
        Assert.Equal([0, 32, 32, 64, 32, 32, 128, 32, 64], rows.Select(r => r.GroupSize).ToArray());
        Assert.Equal(ComparisonRowKind.OursAwq, rows[1].Kind);
        Assert.Equal(ComparisonRowKind.OursRtn, rows[2].Kind);
        Assert.Equal(QuantMethod.Gptq, rows[7].Method);
        Assert.Equal(QuantMethod.AwqGptq, rows[8].Method);
        foreach (var bad in new[] { "awq:g32:w5", "awq:g32:w", "rtn:g32:3", "awq:g32:w3:x", "awq:w3", "gptq:g32:w6", "qat:g32:w3" })
            Assert.Contains($"--rows '{bad}'", Assert.Throws<ArgumentException>(() => CompareCommand.ParseRows([bad])).Message);
        // the width forms are opt-in: the default rows stay 4-bit
        Assert.All(ComparisonRowSpec.Defaults, r => Assert.Equal(4, r.WBit));
    }

    [Fact]
    public void Rows_option_accepts_mixed_widths_by_recipe_or_by_kind()
    {
        var rows = CompareCommand.ParseRows(["qat-mix:g32", "awq-mix:g64+up_proj=8", "rtn:g32+down_proj=8+v_proj=8", "awq+gptq:g32+down_proj=3"]);
        Assert.Equal(["FP32 (ours)", "QAT g32, q_proj k_proj v_proj o_proj down_proj 8-bit", "AWQ g64, q_proj k_proj v_proj o_proj up_proj down_proj 8-bit",
            "RTN g32, v_proj down_proj 8-bit", "AWQ+GPTQ g32, down_proj 3-bit"], rows.Select(r => r.Name).ToArray());
        Assert.Equal(ComparisonRowSpec.MixRecipe, rows[1].ModuleBits);
        Assert.Equal((QuantMethod.Qat, 32), (rows[1].Method, rows[1].GroupSize));
        Assert.Equal(8, rows[2].ModuleBits["up_proj"]);
        Assert.Equal(ComparisonRowKind.OursRtn, rows[3].Kind);
        Assert.Equal(3, rows[4].ModuleBits["down_proj"]);
        foreach (var (bad, why) in new[]
        {
            ("rtn:g32+down_proj=5", "use 2, 3, 4 or 8 bits"), ("rtn:g32+ffn=8", "'ffn' is not one of"), ("imatrix:Q4_0+down_proj=8", "our group-wise rows"),
            ("w8a8-static:mse+down_proj=8", "our group-wise rows"), ("rtn:g32+down_proj", "is not KIND=BITS"),
        })
            Assert.Contains(why, Assert.Throws<ArgumentException>(() => CompareCommand.ParseRows([bad])).Message);
        Assert.All(ComparisonRowSpec.Defaults, r => Assert.Empty(r.ModuleBits));
    }

    [Fact]
    public void Default_rows_are_the_acceptance_list()
    {
        var names = ComparisonRowSpec.Defaults.Select(r => r.Name).ToArray();
        foreach (var n in new[] { "FP32 (ours)", "F32 (llama.cpp)", "AWQ g32", "AWQ g64", "RTN g32", "RTN g64", "Q8_0", "Q4_0", "Q4_1", "Q4_K_M", "Q5_K_M", "AWQ-scaled Q4_0", "AWQ-scaled Q4_K_M",
                     "Q4_K_M + imatrix", "Q4_1 + imatrix", "Q4_0 + imatrix" })
            Assert.Contains(n, names);
        Assert.Equal(names.Length, names.Distinct().Count());
    }

    [Theory]
    [InlineData(0.0, "0")]
    [InlineData(4.4e-12, "4.40e-12")]
    [InlineData(0.00067, "6.70e-04")]
    [InlineData(0.0152, "0.0152")]
    [InlineData(double.NaN, "—")]
    public void Small_numbers_keep_their_magnitude(double v, string text) => Assert.Equal(text, ComparisonFormat.Small(v));

    [Theory]
    [InlineData(1023L, "1.0 KiB")]
    [InlineData(281_600L, "275.0 KiB")]
    [InlineData(1_184_000L, "1.13 MiB")]
    [InlineData(3_700_000_000L, "3.45 GiB")]
    public void Sizes_in_binary_units(long bytes, string text) => Assert.Equal(text, ComparisonFormat.Bytes(bytes));
}

internal static class PngAssert
{
    /// <summary>PNG signature, an IHDR of the expected size, an IEND, and more than a blank image's bytes.</summary>
    public static void IsPng(string path, int width, int height)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 20_000, $"{path}: {bytes.Length} bytes, too small for a plot with text");
        Assert.True(bytes.Length < 5_000_000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
        Assert.Equal("IEND", System.Text.Encoding.ASCII.GetString(bytes, bytes.Length - 8, 4));
    }
}
