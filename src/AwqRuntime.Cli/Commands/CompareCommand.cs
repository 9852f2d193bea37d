using AwqRuntime.Quantization;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AwqRuntime.Comparison;
using AwqRuntime.LlamaSharp;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>
/// `awq compare MODEL --data FILE --calib FILE`: our FP32, AWQ and RTN against llama.cpp's GGUF
/// formats (and AWQ-scaled GGUFs) on the same token ids, with size, quality and speed in one table.
/// </summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var data = new Option<string>("--data") { Description = "Evaluation text file", Required = true };
        var calib = new Option<string?>("--calib") { Description = "Calibration text file for AWQ (default inside this repo: ../shared/data/tinystories_calib.txt)" };
        var o = SharedOptions.Create();
        var cmd = new Command("compare", "Compare AWQ/RTN INT4 with llama.cpp's GGUF formats on the same tokens: size, PPL, KL divergence, top-1, speed")
        {
            model, tokenizer, data, calib,
        };
        o.AddTo(cmd);
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            var calibPath = parse.GetValue(calib) ?? RepoPaths.DefaultCalibrationText
                ?? throw new ArgumentException("--calib FILE is required outside this repository");
            var settings = o.Read(parse, parse.GetValue(model)!, parse.GetValue(tokenizer), parse.GetValue(data)!, calibPath, defaultWork: null);
            return ExitCode(Execute(settings));
        }));
        return cmd;
    }

    /// <summary>0 when every row ran; otherwise the failed rows are listed on stderr and the exit code is 1, so that scripts and CI notice.</summary>
    internal static int ExitCode(ComparisonReport report)
    {
        if (report.FailureSummary is not { } summary) return 0;
        Console.Error.WriteLine($"awq: error: {summary}");
        return 1;
    }

    /// <summary>Options shared by `compare` and `demo`.</summary>
    internal sealed class SharedOptions
    {
        public required Option<int> Ctx { get; init; }
        public required Option<int> Chunks { get; init; }
        public required Option<int> Threads { get; init; }
        public required Option<int> Runs { get; init; }
        public required Option<bool> NoSpeed { get; init; }
        public required Option<string?> Work { get; init; }
        public required Option<string?> Out { get; init; }
        public required Option<bool> Json { get; init; }
        public required Option<string?> Plot { get; init; }
        public required Option<bool> Quiet { get; init; }
        public required Option<string[]> Rows { get; init; }
        public required Option<int> CalibSamples { get; init; }
        public required Option<int> CalibSeqLen { get; init; }
        public required Option<bool> ScaledClip { get; init; }
        public required Option<int> QatSteps { get; init; }
        public required Option<int?> QatSelf { get; init; }

        /// <summary>The options, with the defaults of the command: <paramref name="defaultRows"/> null means <see cref="ComparisonRowSpec.Defaults"/>.</summary>
        public static SharedOptions Create(int defaultChunks = 0, IReadOnlyList<ComparisonRowSpec>? defaultRows = null) => new()
        {
            Ctx = new Option<int>("--ctx") { Description = "Evaluation window (the second half of each is scored)", DefaultValueFactory = _ => 512 },
            Chunks = new Option<int>("--chunks") { Description = "Evaluate at most this many windows (0 = all)", DefaultValueFactory = _ => defaultChunks },
            Threads = CliOptions.Threads(),
            Runs = new Option<int>("--runs") { Description = "Timed runs per speed measurement (median reported, after one warm-up)", DefaultValueFactory = _ => 3 },
            NoSpeed = new Option<bool>("--no-speed") { Description = "Skip the prefill/decode speed measurements" },
            Work = new Option<string?>("--work") { Description = "Folder for the checkpoints and GGUF files (kept) and the reference's logits (float32, scored positions × vocabulary; deleted at the end); default: a temporary folder, deleted afterwards" },
            Out = new Option<string?>("--out", "-o") { Description = "Write the report as Markdown to this file" },
            Json = CliOptions.Json(),
            Plot = new Option<string?>("--plot") { Description = "Write a PNG: KL divergence (log) against bits per weight, one point per row" },
            Quiet = CliOptions.Quiet(),
            Rows = new Option<string[]>("--rows")
            {
                Description = $"Rows to build (default: {string.Join(", ", (defaultRows ?? ComparisonRowSpec.Defaults).Select(r => r.Name))}). " +
                    "Any of those names, any llama-quantize type (IQ4_NL), awq:gN, rtn:gN, gptq:gN, awq+gptq:gN (each also as awq:gN:w3 and so on: 2, 3 or 8-bit weights), qat:gN, w8a8-dynamic, w8a8-static:minmax|percentile|mse, awq-compat:gN / qat-compat:gN (the linears llama.cpp cannot split kept in fp16), awq-mix:gN / rtn-mix:gN / qat-mix:gN (gate_proj and up_proj at 4 bits, the other linears at 8) or any of our group-wise rows + KIND=BITS (rtn:g32+down_proj=8), awq-scaled:TYPE, imatrix:TYPE (llama.cpp with our calibration's importance matrix); FP32 (ours) is always included",
                AllowMultipleArgumentsPerToken = true,
            },
            CalibSamples = new Option<int>("--calib-samples") { Description = "Calibration sequences", DefaultValueFactory = _ => 128 },
            CalibSeqLen = new Option<int>("--calib-seqlen") { Description = "Tokens per calibration sequence", DefaultValueFactory = _ => 512 },
            ScaledClip = new Option<bool>("--awq-scaled-clip") { Description = "Also apply AWQ's clipping to the AWQ-scaled GGUF rows (off: scales only)" },
            QatSteps = new Option<int>("--qat-steps") { Description = "Training steps of qat:gN rows", DefaultValueFactory = _ => new AwqRuntime.Quantization.Qat.QatOptions().Steps },
            QatSelf = new Option<int?>("--qat-self") { Description = $"qat:gN rows: sequences sampled from the full-precision model added to the training text (default: {AwqRuntime.Quantization.Qat.QatOptions.DefaultSelfSamplesPerCalibrationSequence} per calibration sequence; 0: none)" },
        };

        public void AddTo(Command cmd)
        {
            foreach (var option in new Option[] { Ctx, Chunks, Threads, Runs, NoSpeed, Work, Out, Json, Plot, Quiet, Rows, CalibSamples, CalibSeqLen, ScaledClip, QatSteps, QatSelf })
                cmd.Options.Add(option);
        }

        public CompareSettings Read(ParseResult parse, string modelPath, string? tokenizerPath, string dataPath, string calibPath, string? defaultWork)
        {
            CliOptions.ApplyThreads(parse.GetValue(Threads));
            var runs = parse.GetValue(Runs);
            if (runs < 1) throw new ArgumentException($"--runs must be at least 1 (got {runs})");
            var chunks = parse.GetValue(Chunks);
            if (chunks < 0) throw new ArgumentException($"--chunks must not be negative (got {chunks})");
            // As in eval: the default window shortens to a shorter model context, a longer --ctx is refused (read from the header only).
            int window;
            using (var header = AwqRuntime.Formats.CheckpointLoader.Open(modelPath))
                window = CliOptions.EvalWindow(parse, Ctx, header.Config.MaxPositionEmbeddings, header.ContextOrigin);
            if (Directory.Exists(dataPath)) throw new ArgumentException($"--data {dataPath} is a directory, not a text file");
            var noSpeed = parse.GetValue(NoSpeed);
            var options = new ComparisonOptions
            {
                ModelPath = modelPath,
                TokenizerPath = tokenizerPath,
                EvalTextPath = dataPath,
                CalibrationTextPath = calibPath,
                CalibrationSamples = parse.GetValue(CalibSamples),
                CalibrationSeqLen = parse.GetValue(CalibSeqLen),
                Context = window,
                MaxChunks = chunks > 0 ? chunks : null,
                Threads = Native.Kernels.Threads,
                SpeedRuns = runs,
                SpeedPromptTokens = noSpeed ? 0 : 512,
                SpeedDecodeTokens = noSpeed ? 0 : 128,
                WorkFolder = parse.GetValue(Work) ?? defaultWork ?? "",
                Rows = ParseRows(parse.GetValue(Rows)),
                AwqScaledClip = parse.GetValue(ScaledClip),
                Qat = new AwqRuntime.Quantization.Qat.QatOptions { Steps = parse.GetValue(QatSteps), SelfSamples = parse.GetValue(QatSelf) }.Validate(),
                CommandLine = CommandLine(parse),
                GitCommit = GitCommit(),
            };
            return new CompareSettings(options, parse.GetValue(Out), parse.GetValue(Plot), parse.GetValue(Json), parse.GetValue(Quiet));
        }
    }

    internal sealed record CompareSettings(ComparisonOptions Options, string? MarkdownPath, string? PlotPath, bool Json, bool Quiet);

    /// <summary>Runs the comparison with progress on stderr, then prints and writes what was asked for.</summary>
    internal static ComparisonReport Execute(CompareSettings s)
    {
        var options = s.Options;
        string? temporary = null;
        if (options.WorkFolder.Length == 0)
        {
            temporary = Directory.CreateTempSubdirectory("awq-compare-").FullName;
            options = options with { WorkFolder = temporary };
        }
        try
        {
            var report = RunWithProgress(options, s.Quiet || s.Json);
            if (s.Json) Console.WriteLine(ComparisonJson.Serialize(report));
            else
            {
                // Piped or captured output has no terminal width; Spectre would wrap the table at 80 columns.
                if (Console.IsOutputRedirected) AnsiConsole.Console.Profile.Width = Math.Max(AnsiConsole.Console.Profile.Width, 220);
                ComparisonTable.Print(AnsiConsole.Console, report);
            }
            if (s.PlotPath != null)
            {
                ComparisonPlot.Save(report, s.PlotPath);
                Status(s, $"plot: {Path.GetFullPath(s.PlotPath)} ({ComparisonPlot.Plotted(report).Count} points)");
            }
            if (s.MarkdownPath != null)
            {
                var plotRef = s.PlotPath == null ? null : RelativePlotPath(s.MarkdownPath, s.PlotPath);
                WriteAtomically(s.MarkdownPath, ComparisonMarkdown.Write(report, plotRef));
                Status(s, $"report: {Path.GetFullPath(s.MarkdownPath)}");
            }
            return report;
        }
        finally
        {
            if (temporary != null)
            {
                try { Directory.Delete(temporary, recursive: true); }
                catch (IOException) { /* a file still mapped; the OS cleans its temp folder */ }
            }
        }
    }

    private static void Status(CompareSettings s, string line)
    {
        if (!s.Quiet) CliOptions.Status.MarkupLine(Markup.Escape(line));
    }

    private static ComparisonReport RunWithProgress(ComparisonOptions options, bool quiet)
    {
        if (quiet) return ComparisonRunner.Run(options);
        var clock = Stopwatch.StartNew();
        void Milestone(ComparisonProgress p) => CliOptions.Status.MarkupLine($"[grey]{clock.Elapsed:mm\\:ss}[/] {Markup.Escape(p.Message)}");
        if (Console.IsErrorRedirected)
        {
            // A log, not a terminal: no spinner (every update would become a line); milestones, and
            // the current step at most every 30 s so a long evaluation still shows it is moving.
            var lastLine = TimeSpan.Zero;
            return ComparisonRunner.Run(options, new SyncProgress<ComparisonProgress>(p =>
            {
                if (!p.IsMilestone && clock.Elapsed - lastLine < TimeSpan.FromSeconds(30)) return;
                lastLine = clock.Elapsed;
                Milestone(p.Fraction is { } f ? p with { Message = $"{p.Message} ({f * 100:F0} %)" } : p);
            }));
        }
        ComparisonReport report = null!;
        CliOptions.Status.Status().Spinner(Spinner.Known.Dots).Start("starting", ctx =>
        {
            report = ComparisonRunner.Run(options, new SyncProgress<ComparisonProgress>(p =>
            {
                var text = p.Fraction is { } f ? $"{p.Message} ({f * 100:F0} %)" : p.Message;
                if (p.IsMilestone) Milestone(p);
                ctx.Status(Markup.Escape(text));
            }));
        });
        return report;
    }

    /// <summary>Rows from --rows values (comma or space separated); the defaults when none.</summary>
    internal static IReadOnlyList<ComparisonRowSpec> ParseRows(string[]? values)
    {
        var names = (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        if (names.Count == 0) return ComparisonRowSpec.Defaults;
        var rows = new List<ComparisonRowSpec> { ComparisonRowSpec.OursFp32() };
        foreach (var name in names)
        {
            var spec = ParseRow(name);
            if (spec.Kind == ComparisonRowKind.OursFp32 || rows.Any(r => r.Name == spec.Name)) continue;
            rows.Add(spec);
        }
        return rows;
    }

    private static ComparisonRowSpec ParseRow(string name)
    {
        var known = ComparisonRowSpec.Defaults.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
        if (known != null) return known;
        static int Group(string v, string name) =>
            v.StartsWith('g') && int.TryParse(v[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var g) && g > 0
                ? g : throw new ArgumentException($"--rows '{name}': expected a group size like g32");
        // awq:g32 or awq:g32:w3 (w2, w3, w4, w8: the weight width)
        static (int Group, int Bits) GroupBits(string v, string name)
        {
            var parts = v.Split(':');
            if (parts.Length > 2) throw new ArgumentException($"--rows '{name}': expected gN or gN:wB, like g32:w3");
            if (parts.Length == 1) return (Group(parts[0], name), 4);
            return parts[1].StartsWith('w') && int.TryParse(parts[1][1..], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && b is 2 or 3 or 4 or 8
                ? (Group(parts[0], name), b)
                : throw new ArgumentException($"--rows '{name}': the weight width must be w2, w3, w4 or w8");
        }
        var lower = name.ToLowerInvariant();
        // mixed precision: "awq-mix:g32" (the mix recipe), or any group-wise row + "+KIND=BITS" parts ("rtn:g32+down_proj=8")
        var colon = lower.IndexOf(':');
        var plus = colon >= 0 ? lower.IndexOf('+', colon) : -1;
        if (plus > 0 || lower.Contains("-mix:", StringComparison.Ordinal))
        {
            var baseName = plus > 0 ? name[..plus] : name;
            var bits = new Dictionary<string, int>();
            if (baseName.ToLowerInvariant() is var b && b.Contains("-mix:", StringComparison.Ordinal))
            {
                baseName = baseName.Replace("-mix:", ":", StringComparison.OrdinalIgnoreCase);
                foreach (var (k, v) in ComparisonRowSpec.MixRecipe) bits[k] = v;
            }
            if (plus > 0)
            {
                Dictionary<string, int> extra;
                try { extra = WBitOption.ParseFor(QuantMethod.Awq, name[(plus + 1)..].Split('+').Select(x => x.Trim())); }
                catch (ArgumentException e) { throw new ArgumentException($"--rows '{name}': {e.Message.Replace("--w-bit-for ", "")}"); }
                foreach (var (k, v) in extra) bits[k] = v;
            }
            var row = ParseRow(baseName);
            if (row.Kind is not (ComparisonRowKind.OursAwq or ComparisonRowKind.OursRtn) && !(row.Kind == ComparisonRowKind.OursMethod && row.Method.IsInt4()))
                throw new ArgumentException($"--rows '{name}': per-linear widths apply to our group-wise rows (awq, rtn, gptq, awq+gptq, qat), not '{baseName}'");
            return row.WithModuleBits(bits);
        }
        if (lower.StartsWith("awq-scaled:", StringComparison.Ordinal)) return ComparisonRowSpec.AwqScaled(name["awq-scaled:".Length..].ToUpperInvariant());
        if (lower.StartsWith("imatrix:", StringComparison.Ordinal))
        {
            var type = name["imatrix:".Length..].ToUpperInvariant();
            return LlamaFileTypes.Names.Contains(type) ? ComparisonRowSpec.LlamaCppImatrix(type)
                : throw new ArgumentException($"--rows '{name}': '{type}' is not a llama-quantize type");
        }
        if (lower.StartsWith("awq-compat:", StringComparison.Ordinal)) return ComparisonRowSpec.AwqLlamaCppCompatible(Group(lower["awq-compat:".Length..], name));
        if (lower.StartsWith("awq:", StringComparison.Ordinal)) { var (g, b) = GroupBits(lower[4..], name); return ComparisonRowSpec.Awq(g, b); }
        if (lower == "w8a8-dynamic") return ComparisonRowSpec.Ours(QuantMethod.W8A8Dynamic);
        if (lower.StartsWith("w8a8-static:", StringComparison.Ordinal))
            return ComparisonRowSpec.Ours(QuantMethod.W8A8Static, observer: AwqRuntime.Quantization.Observers.ObserverNames.Parse(lower["w8a8-static:".Length..]));
        foreach (var m in new[] { QuantMethod.Gptq, QuantMethod.AwqGptq })
            if (lower.StartsWith(m.Name() + ":", StringComparison.Ordinal))
            {
                var (g, b) = GroupBits(lower[(m.Name().Length + 1)..], name);
                return ComparisonRowSpec.Ours(m, g, bits: b);
            }
        if (lower.StartsWith("qat:", StringComparison.Ordinal)) return ComparisonRowSpec.Ours(QuantMethod.Qat, Group(lower[4..], name));
        foreach (var m in new[] { QuantMethod.Gptq, QuantMethod.AwqGptq, QuantMethod.Qat })
            if (lower.StartsWith(m.Name() + "-compat:", StringComparison.Ordinal))
                return ComparisonRowSpec.OursLlamaCppCompatible(m, Group(lower[(m.Name().Length + 8)..], name));
        if (lower.StartsWith("rtn:", StringComparison.Ordinal)) { var (g, b) = GroupBits(lower[4..], name); return ComparisonRowSpec.Rtn(g, b); }
        if (lower is "f32" or "fp32") return ComparisonRowSpec.LlamaCppF32();
        if (LlamaFileTypes.Names.Contains(name.ToUpperInvariant())) return ComparisonRowSpec.LlamaCpp(name.ToUpperInvariant());
        throw new ArgumentException(
            $"--rows '{name}' is not a row name ({string.Join(", ", ComparisonRowSpec.Defaults.Select(r => r.Name))}), a llama-quantize type, awq:gN, rtn:gN, gptq:gN, awq+gptq:gN (awq:gN:wB and so on at B = 2, 3, 8 bits), qat:gN, w8a8-dynamic, w8a8-static:OBSERVER, awq-compat:gN (also gptq-, awq+gptq-, qat-compat:gN), awq-mix:gN (also rtn-, gptq-, qat-mix:gN), a group-wise row + KIND=BITS, awq-scaled:TYPE or imatrix:TYPE");
    }

    /// <summary>The command as typed, for the report ("awq compare model.bin --data ...").</summary>
    private static string CommandLine(ParseResult parse)
    {
        static string Quote(string a) => a.Length > 0 && a.All(ch => char.IsAsciiLetterOrDigit(ch) || "-_./=:,+@%".Contains(ch)) ? a : $"'{a.Replace("'", "'\\''", StringComparison.Ordinal)}'";
        return "awq " + string.Join(" ", parse.Tokens.Select(t => Quote(t.Value)));
    }

    /// <summary>The repository's commit when the CLI runs inside a git checkout (best effort, for provenance).</summary>
    private static string? GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse --short=12 HEAD")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (git == null) return null;
            var output = git.StandardOutput.ReadToEnd().Trim();
            if (!git.WaitForExit(5000)) return null;
            if (git.ExitCode != 0 || output.Length == 0) return null;
            using var status = Process.Start(new ProcessStartInfo("git", "status --porcelain --untracked-files=no")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            var dirty = status != null && status.StandardOutput.ReadToEnd().Trim().Length > 0 && status.WaitForExit(5000);
            return dirty ? output + " (with local changes)" : output;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    private static string RelativePlotPath(string markdownPath, string plotPath)
    {
        var mdDir = Path.GetDirectoryName(Path.GetFullPath(markdownPath))!;
        return Path.GetRelativePath(mdDir, Path.GetFullPath(plotPath)).Replace('\\', '/');
    }

    private static void WriteAtomically(string path, string content)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = full + ".tmp";
        File.WriteAllText(tmp, content);
        File.Move(tmp, full, overwrite: true);
    }
}
