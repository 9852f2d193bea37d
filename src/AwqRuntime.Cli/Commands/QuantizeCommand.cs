using AwqRuntime.Formats;
using System.CommandLine;
using System.Globalization;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Qat;
using AwqRuntime.Quantization.Resume;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq quantize MODEL --out DIR`: AWQ (or RTN) INT4 quantization into an AutoAWQ checkpoint.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var output = new Option<string>("--out", "-o") { Description = "Output folder (written to a temporary folder, renamed when complete)", Required = true };
        var calib = new Option<string?>("--calib") { Description = "Calibration text file, or 'self' to sample calibration text from the model (default inside this repo: ../shared/data/tinystories_calib.txt)" };
        var samples = new Option<int>("--calib-samples") { Description = "Calibration sequences", DefaultValueFactory = _ => 128 };
        var seqLen = new Option<int>("--calib-seqlen") { Description = "Tokens per calibration sequence", DefaultValueFactory = _ => 512 };
        var group = new Option<int>("--group-size", "-g") { Description = "Weights per quantization group along the input dimension", DefaultValueFactory = _ => 128 };
        var bits = new Option<int>("--w-bit") { Description = "Weight bits of rtn, awq, gptq and awq+gptq: 2, 3, 4 or 8 (4 is saved in AutoAWQ's layout, 2, 3 and 8 in compressed-tensors' pack-quantized one)", DefaultValueFactory = _ => 4 };
        var bitsFor = new Option<string[]>("--w-bit-for")
        {
            Description = "Mixed precision: a linear kind at its own width, KIND=BITS (repeatable: --w-bit-for down_proj=8 --w-bit-for v_proj=8); saved in compressed-tensors' pack-quantized layout, one config group per width",
            AllowMultipleArgumentsPerToken = false,
        };
        var method = new Option<string>("--method")
        {
            Description = "awq (activation-aware search), rtn (plain round-to-nearest), gptq (error-feedback rounding), awq+gptq (AWQ's scales, then GPTQ), " +
                "w8a8-dynamic (INT8 weights per channel, activations quantized per token at run time), w8a8-static (activation ranges fixed from calibration, see --observer) " +
                "or qat (AWQ, then quantization-aware training against the full-precision model on the calibration text, see --qat-steps)",
            DefaultValueFactory = _ => "awq",
        };
        var observer = new Option<string>("--observer")
        {
            Description = "w8a8-static: how activation ranges are chosen from calibration: minmax, percentile (99.99 %) or mse (grid search)",
            DefaultValueFactory = _ => "minmax",
        };
        var actOrder = new Option<bool>("--act-order") { Description = "gptq, awq+gptq: round columns in order of decreasing Hessian diagonal (group parameters fixed up front)" };
        var qatSteps = new Option<int>("--qat-steps") { Description = "qat: optimiser steps", DefaultValueFactory = _ => new QatOptions().Steps };
        var qatBatch = new Option<int>("--qat-batch") { Description = "qat: calibration sequences per step", DefaultValueFactory = _ => new QatOptions().BatchSize };
        var qatLr = new Option<float>("--qat-lr") { Description = "qat: Adam step size of the latent weights, in quantization steps of their group", DefaultValueFactory = _ => new QatOptions().WeightLearningRate };
        var qatScaleLr = new Option<float>("--qat-scale-lr") { Description = "qat: Adam step size of the group scales, relative to their value (0 keeps AWQ's)", DefaultValueFactory = _ => new QatOptions().ScaleLearningRate };
        var qatNormLr = new Option<float>("--qat-norm-lr") { Description = "qat: Adam step size of the RMSNorm weights, relative to their value (0 keeps AWQ's)", DefaultValueFactory = _ => new QatOptions().NormLearningRate };
        var qatSelf = new Option<int?>("--qat-self") { Description = $"qat: sequences sampled from the full-precision model (temperature 1) added to the calibration text as training data (default: {QatOptions.DefaultSelfSamplesPerCalibrationSequence} per calibration sequence; 0: none)" };
        var noDuo = new Option<bool>("--no-duo-scaling") { Description = "llm-awq's scale formula s = x̄^α instead of AutoAWQ's x̄^α / w̄^(1−α)" };
        var noClip = new Option<bool>("--no-clip") { Description = "Skip the weight clipping search" };
        var notConvert = new Option<string[]>("--modules-to-not-convert") { Description = "Linear kinds kept in fp16 (e.g. down_proj)", AllowMultipleArgumentsPerToken = true };
        var stats = new Option<bool>("--stats") { Description = "With --method rtn: still run the calibration pass, to record activation statistics (awq_search.safetensors)" };
        var force = new Option<bool>("--force") { Description = "Replace an existing output folder (and discard an interrupted run's work folder)" };
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue an interrupted run: each finished block is kept in OUT.work, so a run that was killed restores them and goes on; the checkpoint equals an uninterrupted run's",
        };
        var seed = new Option<ulong>("--seed") { Description = "Seed for --calib self", DefaultValueFactory = _ => 42UL };
        var format = new Option<string>("--format")
        {
            Description = "INT4 checkpoint layout: awq (AutoAWQ's GEMM: qweight/qzeros/scales) or compressed-tensors (llm-compressor's pack-quantized, which vLLM and transformers load natively); 2-, 3- and 8-bit weights are always compressed-tensors",
            DefaultValueFactory = _ => "awq",
        };
        var threads = CliOptions.Threads();
        var device = new RuntimeChoices().Device;
        device.Description = "Where the calibration forward and the search's module evaluations run: 'cpu', or 'cuda' / 'cuda:N'";
        var allowNonFinite = CliOptions.AllowNonFinite();
        var quiet = CliOptions.Quiet();
        var json = CliOptions.Json();
        var cmd = new Command("quantize", "Quantize a model to group-wise INT4 (or --w-bit 2, 3, 8) with AWQ and save it in AutoAWQ's checkpoint layout (compressed-tensors' for widths other than 4)")
        {
            model, tokenizer, output, calib, samples, seqLen, group, bits, bitsFor, method, observer, actOrder, qatSteps, qatBatch, qatLr, qatScaleLr, qatNormLr, qatSelf, noDuo, noClip, notConvert, stats, force, resume, seed, format, threads, device, allowNonFinite, quiet, json,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            var backend = AwqRuntime.Backends.ComputeDevices.Open(parse.GetValue(device) ?? "cpu");
            var quantMethod = QuantMethodNames.Parse(parse.GetValue(method));
            WBitOption.Check(quantMethod, parse.GetValue(bits), parse.GetResult(bits) is { Implicit: false });
            var config = new AwqConfig
            {
                Method = quantMethod,
                ActOrder = parse.GetValue(actOrder),
                Observer = AwqRuntime.Quantization.Observers.ObserverNames.Parse(parse.GetValue(observer)),
                GroupSize = parse.GetValue(group), WBit = parse.GetValue(bits), ModuleBits = WBitOption.ParseFor(quantMethod, parse.GetValue(bitsFor)),
                DuoScaling = !parse.GetValue(noDuo), ApplyClip = !parse.GetValue(noClip),
                ModulesToNotConvert = parse.GetValue(notConvert) ?? [],
                CaptureStatistics = parse.GetValue(stats),
                Backend = backend is AwqRuntime.Backends.DeviceBackend ? backend : null,
                Qat = new QatOptions
                {
                    Steps = parse.GetValue(qatSteps), BatchSize = parse.GetValue(qatBatch),
                    WeightLearningRate = parse.GetValue(qatLr), ScaleLearningRate = parse.GetValue(qatScaleLr), NormLearningRate = parse.GetValue(qatNormLr), SelfSamples = parse.GetValue(qatSelf), Seed = (int)(parse.GetValue(seed) & 0x7fffffff),
                },
            }.Validate();
            var method0 = config.Method;
            foreach (var (name, set) in new[] { ("--qat-steps", parse.GetResult(qatSteps) is { Implicit: false }), ("--qat-batch", parse.GetResult(qatBatch) is { Implicit: false }),
                         ("--qat-lr", parse.GetResult(qatLr) is { Implicit: false }), ("--qat-scale-lr", parse.GetResult(qatScaleLr) is { Implicit: false }),
                         ("--qat-norm-lr", parse.GetResult(qatNormLr) is { Implicit: false }), ("--qat-self", parse.GetResult(qatSelf) is { Implicit: false }) })
                if (set && method0 != QuantMethod.Qat) throw new ArgumentException($"{name} applies to --method qat, not {method0.Name()}");
            var layout = parse.GetValue(format)?.ToLowerInvariant() switch
            {
                "awq" => Int4CheckpointFormat.AutoAwq,
                "compressed-tensors" => Int4CheckpointFormat.CompressedTensors,
                var other => throw new ArgumentException($"--format '{other}' is not awq or compressed-tensors"),
            };
            if (config.NeedsPackQuantized)
            {
                // AutoAWQ's GEMM layout holds 4-bit weights only; other widths are saved pack-quantized
                if (parse.GetResult(format) is { Implicit: false } && layout == Int4CheckpointFormat.AutoAwq)
                    throw new ArgumentException(config.Mixed
                        ? "--format awq holds one width, 4 bits (AutoAWQ's GEMM layout); --w-bit-for is saved as compressed-tensors"
                        : $"--format awq holds 4-bit weights only (AutoAWQ's GEMM layout); --w-bit {config.WBit} is saved as compressed-tensors");
                layout = Int4CheckpointFormat.CompressedTensors;
            }
            var outDir = parse.GetValue(output)!;
            if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !parse.GetValue(force))
                throw new IOException($"{outDir}: folder exists and is not empty (use --force to replace it)");
            var quietRun = parse.GetValue(quiet) || parse.GetValue(json);
            var result = Run(parse.GetValue(model)!, parse.GetValue(tokenizer), outDir, config, parse.GetValue(calib), parse.GetValue(samples),
                parse.GetValue(seqLen), parse.GetValue(seed), quietRun, parse.GetValue(force), parse.GetValue(allowNonFinite), warnLayout: true, layout,
                journal: true, resume: parse.GetValue(resume));
            if (parse.GetValue(json)) CliOptions.PrintJson(Summary(result, outDir));
            else if (!parse.GetValue(quiet)) PrintSummary(result, outDir);
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// AutoAWQ's GEMM layout (and so vLLM and transformers) needs every linear's input width to be a
    /// multiple of the group size; where one is not, the checkpoint carries AwqRuntime's ceil-groups
    /// layout extension, which only AwqRuntime loads. Null when the layout is the standard one.
    /// </summary>
    internal static string? NonStandardLayoutWarning(AwqRuntime.Model.LlamaConfig c, int groupSize, IReadOnlyList<string>? keptInFp16 = null)
    {
        var odd = AwqRuntime.Model.LinearKinds.All
            .Where(k => keptInFp16?.Contains(AwqRuntime.Model.LinearKinds.Name(k)) != true)
            .Select(k => (Kind: k, In: AwqRuntime.Model.LinearKinds.Shape(k, c)[1]))
            .Where(x => x.In % groupSize != 0)
            .Select(x => $"{AwqRuntime.Model.LinearKinds.Name(x.Kind)} ({x.In} wide)")
            .ToList();
        return odd.Count == 0 ? null
            : $"awq: warning: --group-size {groupSize} does not divide the input width of {string.Join(", ", odd)}; the checkpoint uses AwqRuntime's ceil-groups layout extension, which vLLM and AutoAWQ cannot load";
    }

    /// <summary>
    /// 2-, 3- and 8-bit weights are always pack-quantized; where the group size does not divide a linear's input
    /// width the checkpoint carries the ceil-groups extension, which only AwqRuntime loads. Null when standard.
    /// </summary>
    internal static string? PackQuantizedExtensionWarning(AwqRuntime.Model.LlamaConfig c, int groupSize, IReadOnlyList<string>? keptInFp16 = null) =>
        NonStandardLayoutWarning(c, groupSize, keptInFp16)?.Replace("the checkpoint uses", "the pack-quantized checkpoint uses", StringComparison.Ordinal)
            .Replace("which vLLM and AutoAWQ cannot load", "which vLLM and compressed-tensors cannot load", StringComparison.Ordinal);

    /// <summary>The work folder of a crash-safe run that writes <paramref name="outDir"/>: a sibling, "OUT.work".</summary>
    internal static string WorkFolder(string outDir) => Path.GetFullPath(outDir.TrimEnd('/', '\\')) + ".work";

    /// <summary>Loads, calibrates, quantizes and saves; shared by `quantize`, `compare` and `demo`.</summary>
    /// <param name="journal">Keep each finished block in <see cref="WorkFolder"/> (crash-safe; `quantize` does, `compare` and `demo` do not).</param>
    /// <param name="resume">Continue from the work folder an interrupted run left.</param>
    internal static QuantizationResult Run(string modelPath, string? tokenizerPath, string outDir, AwqConfig config, string? calib,
        int samples, int seqLen, ulong seed, bool quiet, bool force, bool allowNonFinite = false, bool warnLayout = false,
        Int4CheckpointFormat layout = Int4CheckpointFormat.AutoAwq, bool journal = false, bool resume = false)
    {
        using var m = AwqModel.FromPretrained(modelPath, tokenizerPath, allowNonFinite);
        if (layout == Int4CheckpointFormat.CompressedTensors && config.NeedsPackQuantized)
        {
            if (warnLayout && PackQuantizedExtensionWarning(m.Config, config.GroupSize, config.ModulesToNotConvert) is { } w) Console.Error.WriteLine(w);
        }
        else if (layout == Int4CheckpointFormat.CompressedTensors && config.Method.IsInt4())
        {
            // checked before the search, not after it: compressed-tensors' group strategy has no short last group
            var odd = AwqRuntime.Model.LinearKinds.All
                .Where(k => !config.ModulesToNotConvert.Contains(AwqRuntime.Model.LinearKinds.Name(k)) && AwqRuntime.Model.LinearKinds.Shape(k, m.Config)[1] % config.GroupSize != 0)
                .Select(AwqRuntime.Model.LinearKinds.Name).ToList();
            if (odd.Count > 0)
                throw new ArgumentException(
                    $"--format compressed-tensors: --group-size {config.GroupSize} does not divide the input width of {string.Join(", ", odd.Select(k => $"{k} ({AwqRuntime.Model.LinearKinds.Shape(AwqRuntime.Model.LinearKinds.Parse(k), m.Config)[1]} wide)"))}; its group strategy needs whole groups (another --group-size, or --modules-to-not-convert {string.Join(" ", odd)})");
        }
        else if (warnLayout && config.Method is not (QuantMethod.W8A8Dynamic or QuantMethod.W8A8Static) && NonStandardLayoutWarning(m.Config, config.GroupSize, config.ModulesToNotConvert) is { } warning) Console.Error.WriteLine(warning);
        // Round-to-nearest reads no activations: no calibration text is read unless statistics are asked for.
        var reads = config.Method.ReadsCalibration() || config.CaptureStatistics;
        var calibration = reads ? Calibration(m, calib, samples, seqLen, seed) : CalibrationSet.None;
        if (!quiet && !reads) CliOptions.Status.MarkupLine($"calibration: none ({config.Method.Name()} reads no activations; --stats records them)");
        else if (!quiet)
        {
            CliOptions.Status.MarkupLine(Markup.Escape(
                $"calibration: {calibration.Samples.Length} x {calibration.SeqLen} tokens from {calibration.Source}" +
                (calibration.Shortened ? $" (asked for {calibration.RequestedSamples}; the text is shorter)" : "")));
        }
        var work = journal ? OpenJournal(modelPath, outDir, config, calibration, m.Config.NumLayers, reads, force, resume, quiet) : null;
        var result = WithProgress(quiet, m.Config.NumLayers, p => m.Quantize(calibration, config, p, journal: work));
        m.SaveQuantized(outDir, force, layout, work?.Staging);
        work?.Delete();
        return result;
    }

    private static QuantizationJournal OpenJournal(string modelPath, string outDir, AwqConfig config, CalibrationSet calibration, int layers,
        bool activations, bool force, bool resume, bool quiet)
    {
        var folder = WorkFolder(outDir);
        if (Directory.Exists(folder) && !resume)
        {
            if (!force)
                throw new IOException($"{folder}: an interrupted run left its finished blocks here; pass --resume to continue it, or --force to start over");
            Directory.Delete(folder, recursive: true);
        }
        var j = QuantizationJournal.Open(folder, QuantizationJournal.Describe(modelPath, config, calibration), layers, activations);
        if (quiet) return j;
        if (j.Completed > 0) CliOptions.Status.MarkupLine(Markup.Escape($"resuming: {j.Completed} of {layers} blocks were finished ({folder})"));
        else if (resume) CliOptions.Status.MarkupLine(Markup.Escape($"resuming: no finished block in {folder}; starting at block 1"));
        return j;
    }

    internal static CalibrationSet Calibration(AwqModel m, string? calib, int samples, int seqLen, ulong seed)
    {
        if (calib == "self") return m.CalibrationFromSelf(samples, seqLen, seed);
        var file = calib ?? RepoPaths.DefaultCalibrationText
            ?? throw new ArgumentException("--calib FILE is required outside this repository (or --calib self to sample from the model)");
        if (!File.Exists(file)) throw new FileNotFoundException($"calibration file not found: {file}", file);
        return m.CalibrationFromText(File.ReadAllText(file), samples, seqLen, $"file {Path.GetFileName(file)}");
    }

    private static QuantizationResult WithProgress(bool quiet, int layers, Func<IProgress<QuantProgress>, QuantizationResult> body)
    {
        if (quiet) return body(new SyncProgress<QuantProgress>(_ => { }));
        if (!CliOptions.Status.Profile.Capabilities.Interactive)
        {
            // Logs and CI: one line per block with elapsed time and ETA instead of redrawn bars.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var first = -1; // a resumed run starts past its restored blocks: the ETA counts this run's blocks only
            return body(new SyncProgress<QuantProgress>(p =>
            {
                if (p.Step.StartsWith("qat ", StringComparison.Ordinal))
                {
                    // training after the blocks: a line per twentieth of the steps
                    var every = Math.Max(1, (p.Steps - 1) / 20);
                    if (p.StepIndex % every == 0 || p.StepIndex == p.Steps - 1)
                        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{clock.Elapsed.TotalSeconds,7:F1} s] {p.Step}"));
                    return;
                }
                if (p.Step == "load" && first < 0) first = p.Layer;
                if (!(p.Step == "load" && p.Layer > first || p.Step == "done")) return;
                var done = p.Layer;
                var eta = clock.Elapsed.TotalSeconds / Math.Max(done - Math.Max(first, 0), 1) * (layers - done);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{clock.Elapsed.TotalSeconds,7:F1} s] block {done}/{layers} done, ETA {eta:F0} s"));
            }));
        }
        QuantizationResult result = null!;
        CliOptions.Status.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var blocks = ctx.AddTask("blocks", maxValue: layers);
                var step = ctx.AddTask("step", maxValue: 7);
                result = body(new SyncProgress<QuantProgress>(p =>
                {
                    // Fractional progress inside a block keeps the ETA moving between blocks.
                    blocks.Value = Math.Min(layers, p.Layer + (double)p.StepIndex / Math.Max(p.Steps, 1));
                    blocks.Description = p.Layer < layers ? $"block {p.Layer + 1}/{p.Layers}" : "done";
                    step.MaxValue = p.Steps;
                    step.Value = p.StepIndex;
                    step.Description = Markup.Escape(p.Step);
                }));
                blocks.Value = layers;
                step.Value = step.MaxValue;
            });
        return result;
    }

    internal static object Summary(QuantizationResult r, string outDir) => new
    {
        output = Path.GetFullPath(outDir),
        method = r.Config.Method.Name(),
        w_bit = r.Config.Method.IsInt4() ? r.Config.WBit : 8,
        group_size = r.Config.Method.IsInt4() ? r.Config.GroupSize : (int?)null,
        duo_scaling = r.Config.DuoScaling,
        clip = r.Config.ApplyClip,
        calibration = new { source = r.Calibration.Source, samples = r.Calibration.Samples.Length, seq_len = r.Calibration.SeqLen, tokens = r.Calibration.TokenCount },
        seconds = r.Elapsed.TotalSeconds,
        calibration_forward_seconds = r.CalibrationForward.TotalSeconds,
        forwards = r.CalibrationForward > TimeSpan.Zero ? r.Elapsed / r.CalibrationForward : (double?)null,
        bits_per_weight = r.LinearBitsPerWeight,
        qat = r.Qat is { } q
            ? new { steps = q.Options.Steps, batch = q.Batch, seq_len = q.SeqLen, weight_lr = q.Options.WeightLearningRate, scale_lr = q.Options.ScaleLearningRate, norm_lr = q.Options.NormLearningRate,
                initial_kl = q.InitialLoss, final_kl = q.FinalLoss, self_samples = q.SelfSamples, training_sequences = q.TrainingSequences, held_out_sequences = q.HeldOut,
                held_out_kl = q.Validations.Select(v => new { step = v.Step, kl = v.Kl }), kept_step = q.KeptStep, seconds = q.Elapsed.TotalSeconds }
            : null,
        layers = r.Blocks.Select(b => new
        {
            layer = b.Layer,
            seconds = b.Elapsed.TotalSeconds,
            groups = b.Scales.Select(s => new { group = s.Group, alpha = s.BestAlpha, loss = s.BestLoss, unscaled_loss = s.UnscaledLoss }),
            skipped = b.SkippedGroups,
            clip_error = b.ClipErrors,
        }),
    };

    private static void PrintSummary(QuantizationResult r, string outDir)
    {
        var table = new Table().Title(Markup.Escape(r.Config.Method.IsInt4()
            ? $"{r.Config.Method.Name().ToUpperInvariant()} w{r.Config.WBit} g{r.Config.GroupSize}"
            : r.Config.Method.Name().ToUpperInvariant()));
        table.AddColumn("layer");
        table.AddColumn("group");
        table.AddColumn(new TableColumn("α").RightAligned());
        table.AddColumn(new TableColumn("loss").RightAligned());
        table.AddColumn(new TableColumn("loss at s=1").RightAligned());
        foreach (var b in r.Blocks)
            foreach (var s in b.Scales)
                table.AddRow(b.Layer.ToString(CultureInfo.InvariantCulture), Markup.Escape(s.Group), s.BestAlpha.ToString("F2", CultureInfo.InvariantCulture),
                    s.BestLoss.ToString("G4", CultureInfo.InvariantCulture), s.UnscaledLoss.ToString("G4", CultureInfo.InvariantCulture));
        if (r.Blocks.Any(b => b.Scales.Count > 0)) CliOptions.Status.Write(table);
        var skipped = r.Blocks.SelectMany(b => b.SkippedGroups).Distinct().ToList();
        foreach (var s in skipped) CliOptions.Status.MarkupLine(Markup.Escape($"skipped: {s}"));
        if (r.Qat is { } q)
            CliOptions.Status.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"quantization-aware training: {q.Losses.Count} steps of {q.Batch} x {q.SeqLen} tokens from {q.TrainingSequences} sequences{(q.SelfSamples > 0 ? $" ({q.SelfSamples} sampled from the full-precision model)" : "")} in {q.Elapsed.TotalSeconds:F1} s, KL to the full-precision model {q.InitialLoss:F4} → {q.FinalLoss:F4} on the training batches (first and last tenth of the steps)")));
        if (r.Qat is { HeldOut: > 0 } h)
            CliOptions.Status.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"held-out calibration ({h.HeldOut} sequences): KL {h.HeldOutBefore:F4} (AWQ) → {h.HeldOutKept:F4}, parameters of step {h.KeptStep} kept (the lowest)")));
        CliOptions.Status.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"quantized {r.Blocks.Count} blocks in {r.Elapsed.TotalSeconds:F1} s, {r.LinearBitsPerWeight:F3} bits/weight in the linears → {Path.GetFullPath(outDir)}")));
        if (r.CalibrationForward > TimeSpan.Zero)
            CliOptions.Status.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"calibration forward (every block once over the {r.Calibration.TokenCount:N0} tokens): {r.CalibrationForward.TotalSeconds:F1} s; the whole run took {r.Elapsed / r.CalibrationForward:F1} x that")));
    }
}
