using System.Globalization;

namespace AwqRuntime.Comparison;

/// <summary>How report numbers are printed (Markdown and terminal alike); "—" for what was not measured.</summary>
public static class ComparisonFormat
{
    public const string Missing = "—";

    /// <summary>The table's column headers, in order.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "Row", "Runtime", "Format", "Size", "Bits/w (file)", "Bits/w (linears)", "PPL", "KLD mean", "KLD p99", "Top-1", "RMS Δp",
        "Prefill tok/s", "Decode tok/s",
    ];

    /// <summary>The table's cells of one row, in <see cref="Columns"/> order.</summary>
    public static IReadOnlyList<string> Cells(ComparisonRow r) =>
    [
        r.Error == null ? r.Name : $"{r.Name} (failed)",
        r.Runtime,
        r.Format.Length == 0 ? Missing : r.Format,
        Bytes(r.FileBytes),
        Fixed(r.BitsPerWeight, 2),
        Fixed(r.LinearBitsPerWeight, 2),
        Fixed(r.Perplexity, 4),
        Small(r.MeanKld),
        Small(r.KldP99),
        Percent(r.Top1Agreement, 2),
        Percent(r.RmsDeltaP, 3),
        Fixed(r.PrefillTokensPerSecond, 0),
        Fixed(r.DecodeTokensPerSecond, 0),
    ];

    public static string Fixed(double? v, int decimals) =>
        v is { } x && double.IsFinite(x) ? x.ToString("F" + decimals, CultureInfo.InvariantCulture) : Missing;

    public static string Percent(double? fraction, int decimals) =>
        fraction is { } x && double.IsFinite(x) ? (x * 100).ToString("F" + decimals, CultureInfo.InvariantCulture) + " %" : Missing;

    /// <summary>KL divergences span many decades: 4 significant digits, exponent form below 1e-3, exact 0 as "0".</summary>
    public static string Small(double? v)
    {
        if (v is not { } x || !double.IsFinite(x)) return Missing;
        if (x == 0) return "0";
        return Math.Abs(x) < 1e-3 ? x.ToString("0.00e+00", CultureInfo.InvariantCulture) : x.ToString("0.0000", CultureInfo.InvariantCulture);
    }

    public static string Bytes(long? bytes)
    {
        if (bytes is not { } b) return Missing;
        return b switch
        {
            < 1L << 20 => (b / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
            < 1L << 30 => (b / (1024.0 * 1024)).ToString("F2", CultureInfo.InvariantCulture) + " MiB",
            _ => (b / (1024.0 * 1024 * 1024)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        };
    }
}
