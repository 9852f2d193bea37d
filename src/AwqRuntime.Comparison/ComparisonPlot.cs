using System.Globalization;
using ScottPlot;

namespace AwqRuntime.Comparison;

/// <summary>
/// The report as a picture: mean KL divergence to the FP32 reference (log scale) against bits per
/// weight of the whole file, one labelled point per quantized row, coloured by where the weights
/// came from. Lower left is better. The full-precision rows are not points (the reference's KLD is 0,
/// and llama.cpp's F32 sits decades below everything else); their agreement is written in a corner.
/// Rendered headless with ScottPlot (SkiaSharp), with a fixed layout so labels can be placed in pixels.
/// </summary>
public static class ComparisonPlot
{
    public const int Width = 1200;
    public const int Height = 760;

    private static readonly Color Ours = Color.FromHex("#1f77b4");
    private static readonly Color LlamaCpp = Color.FromHex("#d62728");
    private static readonly Color AwqScaled = Color.FromHex("#2ca02c");

    // Data area inside the figure (pixels): room for the title, axis labels and tick labels.
    private const float PadLeft = 95, PadRight = 25, PadTop = 55, PadBottom = 70;
    private const float LabelFontSize = 14;

    /// <summary>Rows drawn as points: quantized, built, evaluated, with a finite positive KLD.</summary>
    public static IReadOnlyList<ComparisonRow> Plotted(ComparisonReport report) =>
        report.Rows.Where(r => !r.IsFullPrecision && r.Error == null && r.BitsPerWeight is { } b && double.IsFinite(b)
            && r.MeanKld is { } k && double.IsFinite(k) && k > 0).ToList();

    public static void Save(ComparisonReport report, string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        Build(report).SavePng(path, Width, Height);
    }

    public static Plot Build(ComparisonReport report)
    {
        var plt = new Plot();
        var sans = new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica" }.FirstOrDefault(n => string.Equals(Fonts.GetTypeface(n, false, false)?.FamilyName, n, StringComparison.OrdinalIgnoreCase));
        if (sans != null) plt.Font.Set(sans);
        plt.Layout.Fixed(new PixelPadding(PadLeft, PadRight, PadBottom, PadTop));

        var rows = Plotted(report);
        var m = report.Metadata;
        var (x0, x1, y0, y1) = Limits(rows);
        plt.Axes.SetLimits(x0, x1, y0, y1);

        var markers = rows.Select(r => ToPixel(r.BitsPerWeight!.Value, Math.Log10(r.MeanKld!.Value), x0, x1, y0, y1)).ToList();
        var placed = new List<Box>();
        foreach (var (legend, color, members) in Groups(rows))
        {
            var sp = plt.Add.ScatterPoints(members.Select(r => r.BitsPerWeight!.Value).ToArray(), members.Select(r => Math.Log10(r.MeanKld!.Value)).ToArray());
            sp.Color = color;
            sp.MarkerSize = 12;
            sp.MarkerShape = MarkerShape.FilledCircle;
            sp.LegendText = legend;
        }
        // Labels in order of x so neighbours are placed one after another.
        foreach (var r in rows.OrderBy(r => r.BitsPerWeight).ThenBy(r => r.MeanKld))
        {
            var color = Groups(rows).First(g => g.Members.Contains(r)).Color;
            var point = ToPixel(r.BitsPerWeight!.Value, Math.Log10(r.MeanKld!.Value), x0, x1, y0, y1);
            var (dx, dy, alignment, box) = PlaceLabel(r.Name, point, placed, markers);
            placed.Add(box);
            var label = plt.Add.Text(r.Name, r.BitsPerWeight!.Value, Math.Log10(r.MeanKld!.Value));
            label.LabelFontSize = LabelFontSize;
            label.LabelFontColor = color.Darken(0.25);
            label.LabelAlignment = alignment;
            label.OffsetX = dx;
            label.OffsetY = dy;
            if (dy != 0)
            {
                // A label moved above or below its point gets a leader line, so two close points cannot swap labels.
                var (ax, ay) = FromPixel(point.X + dx, point.Y + dy, x0, x1, y0, y1);
                var leader = plt.Add.Line(r.BitsPerWeight!.Value, Math.Log10(r.MeanKld!.Value), ax, ay);
                leader.LineColor = color.WithOpacity(0.6);
                leader.LineWidth = 1;
                leader.MarkerSize = 0;
            }
        }

        // A log axis: decades as major ticks labelled 1e-k, the 2..9 multiples as minor ticks.
        plt.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => "1e" + Math.Round(y).ToString("0", CultureInfo.InvariantCulture),
        };
        plt.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plt.Grid.MinorLineColor = Colors.Black.WithOpacity(0.06);
        plt.Grid.MinorLineWidth = 1;

        plt.Title($"{Path.GetFileName(m.Model.TrimEnd('/', '\\'))}: quality against size (lower left is better)", size: 19);
        plt.XLabel("bits per weight (whole file, counted from its bytes)", size: 16);
        plt.YLabel($"mean KL divergence to {m.Reference} (log scale)", size: 16);
        plt.Axes.Bottom.TickLabelStyle.FontSize = 14;
        plt.Axes.Left.TickLabelStyle.FontSize = 14;
        plt.ShowLegend(Alignment.UpperRight);
        plt.Legend.FontSize = 14;

        var caption = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"{m.Windows} windows × {m.Context} tokens of {Path.GetFileName(m.EvalText)}, {m.Date:yyyy-MM-dd}"),
        };
        var f32 = report.Rows.FirstOrDefault(r => r.Kind == ComparisonRowKind.LlamaCppF32 && r.Error == null && r.MeanKld != null);
        if (f32 != null) caption.Add($"not drawn: {f32.Name} vs {m.Reference}, KLD {ComparisonFormat.Small(f32.MeanKld)}");
        var note = plt.Add.Annotation(string.Join("\n", caption), Alignment.LowerLeft);
        note.LabelFontSize = 13;
        note.LabelBackgroundColor = Colors.White.WithOpacity(0.85);
        note.LabelBorderColor = Colors.Gray;
        note.LabelShadowColor = Colors.Transparent;
        return plt;
    }

    private static IEnumerable<(string Legend, Color Color, List<ComparisonRow> Members)> Groups(IReadOnlyList<ComparisonRow> rows)
    {
        var scaled = rows.Where(r => r.Kind == ComparisonRowKind.AwqScaledLlamaCpp).ToList();
        var ours = rows.Where(r => r.Runtime == "ours").ToList();
        var llama = rows.Except(scaled).Except(ours).ToList();
        if (ours.Count > 0) yield return ("ours: AWQ / RTN INT4", Ours, ours);
        if (llama.Count > 0) yield return ("llama.cpp GGUF", LlamaCpp, llama);
        if (scaled.Count > 0) yield return ("AWQ scales, then llama.cpp", AwqScaled, scaled);
    }

    /// <summary>x: the bits range plus room for labels; y: whole decades around the KLD range.</summary>
    private static (double X0, double X1, double Y0, double Y1) Limits(IReadOnlyList<ComparisonRow> rows)
    {
        if (rows.Count == 0) return (0, 16, -4, 0);
        var xs = rows.Select(r => r.BitsPerWeight!.Value).ToArray();
        var ys = rows.Select(r => Math.Log10(r.MeanKld!.Value)).ToArray();
        var span = Math.Max(xs.Max() - xs.Min(), 1);
        var y0 = Math.Floor(ys.Min() - 0.25);
        var y1 = Math.Max(Math.Ceiling(ys.Max() + 0.25), y0 + 1);
        // A hair beyond the outer decades so their tick labels are drawn.
        return (xs.Min() - 0.12 * span, xs.Max() + 0.45 * span, y0 - 0.03, y1 + 0.03);
    }

    private readonly record struct Box(float Left, float Top, float Right, float Bottom)
    {
        public float Overlap(Box o) =>
            Math.Max(0, Math.Min(Right, o.Right) - Math.Max(Left, o.Left)) * Math.Max(0, Math.Min(Bottom, o.Bottom) - Math.Max(Top, o.Top));
    }

    private static (double X, double Y) FromPixel(float px, float py, double x0, double x1, double y0, double y1) =>
        (x0 + (px - PadLeft) / (double)(Width - PadLeft - PadRight) * (x1 - x0),
         y1 - (py - PadTop) / (double)(Height - PadTop - PadBottom) * (y1 - y0));

    private static (float X, float Y) ToPixel(double x, double y, double x0, double x1, double y0, double y1) =>
        ((float)(PadLeft + (x - x0) / (x1 - x0) * (Width - PadLeft - PadRight)),
         (float)(PadTop + (y1 - y) / (y1 - y0) * (Height - PadTop - PadBottom)));

    /// <summary>
    /// Tries positions around the point (right, left, above, below, then further out) and takes the
    /// first whose text box overlaps no earlier label and no marker; otherwise the least overlapping.
    /// Text size is estimated from the font size (DejaVu Sans averages ~0.6 em per character).
    /// </summary>
    private static (float Dx, float Dy, Alignment Alignment, Box Box) PlaceLabel(string text, (float X, float Y) p, List<Box> labels,
        List<(float X, float Y)> markers)
    {
        var w = text.Length * LabelFontSize * 0.6f + 4;
        var h = LabelFontSize * 1.3f;
        var candidates = new (float Dx, float Dy, Alignment A)[]
        {
            (10, 0, Alignment.MiddleLeft), (-10, 0, Alignment.MiddleRight),
            (8, -12, Alignment.LowerLeft), (8, 12, Alignment.UpperLeft),
            (-8, -12, Alignment.LowerRight), (-8, 12, Alignment.UpperRight),
            (8, -28, Alignment.LowerLeft), (8, 28, Alignment.UpperLeft),
            (-8, -28, Alignment.LowerRight), (-8, 28, Alignment.UpperRight),
            (8, -44, Alignment.LowerLeft), (8, 44, Alignment.UpperLeft),
        };
        (float, float, Alignment, Box) best = default;
        var bestCost = float.MaxValue;
        foreach (var (dx, dy, a) in candidates)
        {
            var x = p.X + dx;
            var y = p.Y + dy;
            var left = a is Alignment.MiddleLeft or Alignment.LowerLeft or Alignment.UpperLeft ? x : x - w;
            var top = a is Alignment.MiddleLeft or Alignment.MiddleRight ? y - h / 2 : a is Alignment.LowerLeft or Alignment.LowerRight ? y - h : y;
            var box = new Box(left, top, left + w, top + h);
            var cost = labels.Sum(l => l.Overlap(box)) + markers.Sum(m => new Box(m.X - 7, m.Y - 7, m.X + 7, m.Y + 7).Overlap(box));
            // Leaving the data area is as bad as covering a label.
            if (box.Left < PadLeft || box.Right > Width - PadRight || box.Top < PadTop || box.Bottom > Height - PadBottom) cost += w * h;
            if (cost == 0) return (dx, dy, a, box);
            if (cost < bestCost)
            {
                bestCost = cost;
                best = (dx, dy, a, box);
            }
        }
        return best;
    }
}
