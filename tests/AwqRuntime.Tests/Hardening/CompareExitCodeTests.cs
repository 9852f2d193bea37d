using AwqRuntime.Cli.Commands;
using AwqRuntime.Comparison;
using AwqRuntime.Tests.Compare;

namespace AwqRuntime.Tests.Hardening;

/// <summary>`awq compare` (and `demo`) used to exit 0 when rows failed, as long as one row ran.</summary>
public class CompareExitCodeTests
{
    [Fact]
    public void A_report_with_failed_rows_exits_non_zero_and_lists_them()
    {
        var report = ReportSample.Create();
        var failed = report.Rows.Where(r => r.Error != null).Select(r => r.Name).ToList();
        Assert.NotEmpty(failed);
        Assert.Contains(report.Rows, r => r.Error == null);
        Assert.Equal(failed, report.FailedRows);
        Assert.Equal($"{failed.Count} of {report.Rows.Count} rows failed: {string.Join(", ", failed)}", report.FailureSummary);
        Assert.Equal(1, CompareCommand.ExitCode(report));
        Assert.Contains("\"failed_rows\": [", ComparisonJson.Serialize(report));
        Assert.Contains($"\"{failed[0]}\"", ComparisonJson.Serialize(report).Split("\"failed_rows\"")[1]);
    }

    [Fact]
    public void A_report_where_every_row_ran_exits_zero()
    {
        var full = ReportSample.Create();
        var report = full with { Rows = full.Rows.Where(r => r.Error == null).ToList() };
        Assert.Empty(report.FailedRows);
        Assert.Null(report.FailureSummary);
        Assert.Equal(0, CompareCommand.ExitCode(report));
        // The JSON still reads back (failed_rows is derived, not stored).
        var back = ComparisonJson.Deserialize(ComparisonJson.Serialize(full));
        Assert.Equal(full.FailedRows, back.FailedRows);
    }
}
