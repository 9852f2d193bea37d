using System.Diagnostics;
using System.Globalization;
using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Tokenization;
// Formats.Gguf has a GgufTensorInfo of its own (our reader's); the rows use llama.cpp's view of a file.
using GgufTensorInfo = AwqRuntime.LlamaSharp.GgufTensorInfo;

namespace AwqRuntime.Comparison;

/// <summary>
/// Builds every requested row (our FP32/AWQ/RTN checkpoints, llama.cpp GGUFs), evaluates all of them
/// on the same token ids against our FP32 model, measures their speed at one thread count, and
/// returns the report. A row that cannot be built or run becomes a row carrying its error; the
/// others go on. All models stay loaded during the evaluation so the reference runs once per
/// window (GGUF weights are memory-mapped; our checkpoints are held in memory).
/// </summary>
public sealed class ComparisonRunner : IDisposable
{
    private readonly ComparisonOptions _o;
    private readonly IProgress<ComparisonProgress> _progress;
    private readonly CancellationToken _cancel;
    private readonly List<IDisposable> _owned = [];
    private readonly AwqModel _source;
    private readonly int _threads;
    private CalibrationSet? _calibration;
    private Lazy<string>? _f32Gguf;
    private readonly Dictionary<int, Lazy<string>> _scaledGguf = [];
    // Scales chosen by an AWQ row of this run, per group size: the AWQ-scaled rows fold them instead of searching again.
    private readonly Dictionary<int, IReadOnlyList<BlockReport>> _awqSearches = [];
    private readonly Dictionary<int, string> _awqCheckpoints = [];
    private readonly Dictionary<string, IReadOnlyList<GgufTensorInfo>> _tensorTables = [];

    private ComparisonRunner(ComparisonOptions options, IProgress<ComparisonProgress>? progress, CancellationToken cancel)
    {
        _o = options;
        _progress = progress ?? new Progress<ComparisonProgress>();
        _cancel = cancel;
        _threads = options.Threads ?? Environment.ProcessorCount;
        _source = AwqModel.FromPretrained(options.ModelPath, options.TokenizerPath);
    }

    public static ComparisonReport Run(ComparisonOptions options, IProgress<ComparisonProgress>? progress = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var previousThreads = Native.Kernels.Threads;
        Native.Kernels.Threads = options.Threads ?? Environment.ProcessorCount;
        try
        {
            using var runner = new ComparisonRunner(options, progress, cancel);
            return runner.Execute();
        }
        finally
        {
            Native.Kernels.Threads = previousThreads;
        }
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _source.Dispose();
    }

    /// <summary>A row under construction: what was measured so far, and what runs it.</summary>
    private sealed class RowState(ComparisonRowSpec spec, string name)
    {
        public ComparisonRowSpec Spec { get; } = spec;
        public ComparisonRow Row { get; set; } = new() { Name = name, Kind = spec.Kind, Runtime = spec.IsOurs ? "ours" : "llama.cpp", Format = "" };
        public ILogitsSource? Logits { get; set; }
        public GuardedLogitsSource? Guard { get; set; }
        public Func<int[], int, SpeedResult>? Speed { get; set; }

        public void Fail(string stage, Exception e) => Row = Row with { Error = $"{stage}: {Message(e)}" };
    }

    private ComparisonReport Execute()
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = _source.Tokenizer;
        var text = File.ReadAllText(_o.EvalTextPath);
        var ids = tokenizer.Encode(text, addBos: true);
        var windows = EvalWindows.Build(ids, _o.Context, tokenizer.Spec.BosId, _o.MaxChunks ?? int.MaxValue);
        Report($"evaluation text: {ids.Length:N0} tokens, {windows.Count} windows of {_o.Context}", milestone: true);

        var reference = new RecordingLogitsSource(new RuntimeLogitsSource(_source.Model, "FP32 (ours)"));
        var notes = new List<string>();
        var rows = new List<RowState>();
        foreach (var spec in _o.Rows)
        {
            _cancel.ThrowIfCancellationRequested();
            var state = Build(spec, reference, notes);
            if (state != null) rows.Add(state);
        }

        Evaluate(reference, rows, windows);
        var speed = _o.SpeedPromptTokens > 0 || _o.SpeedDecodeTokens > 0;
        var loadBefore = speed ? MachineInfo.LoadAverage() : null;
        MeasureSpeed(rows, ids, tokenizer.Spec.BosId);
        var loadAfter = speed ? MachineInfo.LoadAverage() : null;

        var c = _source.Config;
        notes.InsertRange(0, ComparisonNotes.Method(_o, c, windows.Count, ids.Length, _threads));
        if (c.TieWordEmbeddings && rows.Any(r => !r.Spec.IsOurs)) notes.Add(ComparisonNotes.TiedClassifier);
        if (_calibration != null) notes.Add(ComparisonNotes.Calibration(_calibration, _o.CalibrationTextPath));
        var scaledGroups = _o.Rows.Where(r => r.Kind == ComparisonRowKind.AwqScaledLlamaCpp).Select(r => r.GroupSize).Distinct().ToList();
        if (scaledGroups.Count > 0)
            notes.Add(ComparisonNotes.AwqScaled(scaledGroups, _o.AwqScaledClip, reused: !_o.AwqScaledClip && scaledGroups.All(_awqSearches.ContainsKey)));

        var metadata = new ComparisonMetadata
        {
            CommandLine = _o.CommandLine,
            Model = _o.ModelPath,
            Tokenizer = _o.TokenizerPath,
            EvalText = _o.EvalTextPath,
            CalibrationText = _o.CalibrationTextPath,
            CalibrationSamples = _calibration?.Samples.Length ?? 0,
            CalibrationSeqLen = _calibration?.SeqLen ?? 0,
            EvalTokens = ids.Length,
            Windows = windows.Count,
            ScoredTokens = windows.Sum(w => (long)w.ScoredCount),
            Context = _o.Context,
            Threads = _threads,
            SpeedRuns = _o.SpeedRuns,
            SpeedPromptTokens = Math.Min(_o.SpeedPromptTokens, ids.Length),
            SpeedDecodeTokens = _o.SpeedDecodeTokens,
            LoadAverageBeforeSpeed = loadBefore,
            LoadAverageAfterSpeed = loadAfter,
            LlamaCppKvCache = _o.LlamaCppKvCache.ToString(),
            Reference = reference.Name,
            Machine = MachineInfo.Collect(),
            Date = DateTimeOffset.Now,
            GitCommit = _o.GitCommit,
            Elapsed = clock.Elapsed,
            Notes = notes,
        };
        return new ComparisonReport(metadata, rows.Select(r => r.Row).ToList());
    }

    // ---------------------------------------------------------------- building rows

    private RowState? Build(ComparisonRowSpec spec, RecordingLogitsSource reference, List<string> notes)
    {
        var name = spec.Name;
        IReadOnlyList<string> notConvert = [];
        if (spec.Kind == ComparisonRowKind.OursAwqLlamaCppCompatible)
        {
            notConvert = LinearsLlamaCppCannotSplit(_source.Config);
            if (notConvert.Count == 0)
            {
                notes.Add(ComparisonNotes.RowOmitted(name));
                return null;
            }
            name = $"AWQ g{spec.GroupSize}, {string.Join("+", notConvert)} fp16";
        }
        var state = new RowState(spec, name);
        var clock = Stopwatch.StartNew();
        Report($"{name}: building");
        try
        {
            switch (spec.Kind)
            {
                case ComparisonRowKind.OursFp32: BuildOursFp32(state, reference); break;
                case ComparisonRowKind.OursAwq: BuildOursInt4(state, QuantMethod.Awq, []); break;
                case ComparisonRowKind.OursRtn: BuildOursInt4(state, QuantMethod.Rtn, []); break;
                case ComparisonRowKind.OursAwqLlamaCppCompatible: BuildOursInt4(state, QuantMethod.Awq, notConvert); break;
                case ComparisonRowKind.LlamaCppF32: BuildLlamaCppF32(state); break;
                case ComparisonRowKind.LlamaCppQuantized: BuildLlamaCppQuantized(state, F32Gguf(), spec.GgufType!, "llama.cpp"); break;
                case ComparisonRowKind.AwqScaledLlamaCpp: BuildLlamaCppQuantized(state, ScaledGguf(spec.GroupSize), spec.GgufType!, $"AWQ-scaled (g{spec.GroupSize}) then llama.cpp"); break;
                case ComparisonRowKind.AwqAsQ4_1LlamaCpp: BuildAwqAsQ4_1(state); break;
                default: throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unknown row kind");
            }
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            state.Fail("build", e);
        }
        state.Row = state.Row with { BuildSeconds = clock.Elapsed.TotalSeconds };
        Report(state.Row.Error is { } err ? $"{name}: FAILED — {err}" : $"{name}: built in {clock.Elapsed.TotalSeconds:F1} s", milestone: true);
        return state;
    }

    /// <summary>Linear kinds whose input width (the GGUF row length) 32 does not divide: llama.cpp's plain formats cannot store them.</summary>
    public static IReadOnlyList<string> LinearsLlamaCppCannotSplit(LlamaConfig c) =>
        LinearKinds.All.Where(k => k.Shape(c)[1] % 32 != 0).Select(k => k.Name()).ToList();

    private void BuildOursFp32(RowState s, RecordingLogitsSource reference)
    {
        var size = CheckpointSize.Measure(_o.ModelPath);
        s.Row = WithSize(s.Row, size) with { Format = _source.Format switch
        {
            CheckpointFormat.Llama2c => "FP32 (llama2.c file)",
            CheckpointFormat.Gguf => "FP32 (from GGUF)",
            _ => "FP32 (from safetensors)",
        }, Path = Path.GetFullPath(_o.ModelPath) };
        s.Logits = reference.Replay(s.Row.Name);
        var model = _source.Model;
        s.Speed = (prompt, first) => SpeedBenchmark.Ours(model, prompt, first, _o.SpeedDecodeTokens, _o.SpeedRuns);
    }

    private void BuildOursInt4(RowState s, QuantMethod method, IReadOnlyList<string> notConvert)
    {
        var config = new AwqConfig { Method = method, GroupSize = s.Spec.GroupSize, ModulesToNotConvert = notConvert }.Validate();
        var dir = Path.Combine(_o.WorkFolder, "ours", Slug(s.Row.Name));
        QuantizeOurs(config, dir, s.Row.Name);
        if (method == QuantMethod.Awq && notConvert.Count == 0) _awqCheckpoints.TryAdd(config.GroupSize, dir);
        // The row runs what was saved: the checkpoint is reloaded as any user would load it.
        var loaded = Own(AwqModel.FromQuantized(dir, _o.TokenizerPath));
        var size = CheckpointSize.Measure(dir);
        var rowNotes = new List<string>();
        if (notConvert.Count > 0)
            rowNotes.Add(ComparisonNotes.KeptInFp16(notConvert, _source.Config));
        s.Row = WithSize(s.Row, size) with
        {
            Format = $"INT4 g{config.GroupSize} (AutoAWQ GEMM)",
            Path = Path.GetFullPath(dir),
            Notes = rowNotes,
        };
        var model = loaded.Model;
        s.Logits = new RuntimeLogitsSource(model, s.Row.Name);
        s.Speed = (prompt, first) => SpeedBenchmark.Ours(model, prompt, first, _o.SpeedDecodeTokens, _o.SpeedRuns);
    }

    /// <summary>The AWQ checkpoint of the row's group size (the AWQ row's, or made here) exported as exact Q4_1, run by llama.cpp.</summary>
    private void BuildAwqAsQ4_1(RowState s)
    {
        var g = s.Spec.GroupSize;
        if (!_awqCheckpoints.TryGetValue(g, out var dir))
        {
            dir = Path.Combine(_o.WorkFolder, "ours", $"awq-g{g}-for-q4_1");
            QuantizeOurs(new AwqConfig { Method = QuantMethod.Awq, GroupSize = g }.Validate(), dir, s.Row.Name);
            _awqCheckpoints.TryAdd(g, dir);
        }
        var dst = Path.Combine(_o.WorkFolder, "gguf", Slug(s.Row.Name) + ".gguf");
        Report($"{s.Row.Name}: writing the INT4 weights as Q4_1 blocks");
        using (var m = AwqModel.FromQuantized(dir, _o.TokenizerPath))
        using (var weights = new ModelWeightSource(m.Model, dir))
            GgufModelExporter.Export(weights, dst, GgufExportType.Q4_1, GgufTokenizerWriter.ToMetadata(_source.Tokenizer.Spec),
                $"{Path.GetFileName(_o.ModelPath.TrimEnd('/'))} AWQ g{g}");
        var tensors = GgufTensorTable.Read(dst);
        var notes = new List<string> { $"source: our AWQ g{g} checkpoint, its INT4 groups written as Q4_1 blocks (d = scale, m = −scale·zero), not re-rounded" };
        var exact = tensors.Where(t => t.TypeName == "F32" && t.Dimensions.Count == 2).Select(t => t.Name).ToList();
        if (exact.Count > 0) notes.Add($"{exact.Count} INT4 linears that 32-weight blocks cannot split are stored as F32 (their exact values)");
        AttachLlamaCpp(s, dst, "GGUF Q4_1 (AWQ's INT4)", _o.LlamaCppKvCache, tensors, notes);
    }

    /// <summary>Quantizes the source with <paramref name="config"/> and saves the checkpoint in <paramref name="dir"/>.</summary>
    private void QuantizeOurs(AwqConfig config, string dir, string label)
    {
        var method = config.Method;
        var calibration = Calibration();
        using (var m = AwqModel.FromPretrained(_o.ModelPath, _o.TokenizerPath))
        {
            // A variant of an AWQ row already built (modules kept in fp16) reuses its scale search: same result, less time.
            var searched = method == QuantMethod.Awq ? _awqSearches.GetValueOrDefault(config.GroupSize) : null;
            var result = m.Quantize(calibration, config, new InlineProgress<QuantProgress>(p =>
                Report($"{label}: block {Math.Min(p.Layer + 1, p.Layers)}/{p.Layers} {p.Step}", (p.Layer + (double)p.StepIndex / Math.Max(p.Steps, 1)) / p.Layers)), _cancel,
                searched);
            m.SaveQuantized(dir, overwrite: true);
            if (method == QuantMethod.Awq) _awqSearches.TryAdd(config.GroupSize, result.Blocks);
        }
    }

    private void BuildLlamaCppF32(RowState s)
    {
        var path = F32Gguf();
        // The agreement check needs llama.cpp's KV cache at F32, whatever the other rows use.
        AttachLlamaCpp(s, path, "GGUF F32", KvCacheType.F32, GgufTensorTable.Read(path), []);
    }

    private void BuildLlamaCppQuantized(RowState s, string sourceGguf, string type, string origin)
    {
        var sourceTensors = TensorTable(sourceGguf);
        var overrides = s.Spec.AutoOverrides ? GgufFallbackPlan.Overrides(sourceTensors, type) : new Dictionary<string, string>();
        var dst = Path.Combine(_o.WorkFolder, "gguf", Slug(s.Row.Name) + ".gguf");
        Report($"{s.Row.Name}: llama.cpp quantizing to {type}");
        var result = GgufQuantizer.Quantize(sourceGguf, dst, type, _threads, quantizeOutputTensor: true, overrides);
        s.Row = s.Row with { Format = $"GGUF {type}", Path = Path.GetFullPath(dst) };
        if (!result.Success)
        {
            s.Row = s.Row with { Error = $"quantize: {result.Error}" };
            return;
        }
        var notes = GgufFallbackPlan.Describe(result.Tensors, type, overrides).ToList();
        if (origin != "llama.cpp") notes.Insert(0, $"source: {origin}");
        AttachLlamaCpp(s, dst, $"GGUF {type}", _o.LlamaCppKvCache, result.Tensors, notes);
    }

    private void AttachLlamaCpp(RowState s, string gguf, string format, KvCacheType kv, IReadOnlyList<GgufTensorInfo> tensors, IReadOnlyList<string> notes)
    {
        var size = CheckpointSize.Measure(gguf);
        s.Row = WithSize(s.Row, size) with
        {
            Format = format,
            Path = Path.GetFullPath(gguf),
            TensorTypes = tensors.GroupBy(t => t.TypeName).OrderByDescending(g => g.Count()).ThenBy(g => g.Key)
                .ToDictionary(g => g.Key, g => g.Count()),
            Notes = notes,
        };
        var prompt = Math.Max(_o.SpeedPromptTokens, 1);
        var model = Own(LlamaCppModel.Load(gguf, new LlamaCppOptions
        {
            ContextSize = Math.Max(_o.Context, Math.Max(prompt, _o.SpeedDecodeTokens + 1)),
            Threads = _threads,
            KvCacheType = kv,
        }));
        if (model.VocabSize != _source.Config.VocabSize)
            throw new InvalidDataException($"llama.cpp reads a vocabulary of {model.VocabSize} from {gguf}; the model has {_source.Config.VocabSize}");
        s.Logits = new LlamaCppLogitsSource(model, s.Row.Name);
        s.Speed = (p, first) => SpeedBenchmark.LlamaCpp(model, p, first, _o.SpeedDecodeTokens, _o.SpeedRuns);
    }

    private static ComparisonRow WithSize(ComparisonRow row, CheckpointSize size) => row with
    {
        FileBytes = size.FileBytes,
        BitsPerWeight = size.BitsPerWeight,
        LinearBitsPerWeight = size.LinearBitsPerWeight,
    };

    // ---------------------------------------------------------------- shared inputs

    private CalibrationSet Calibration()
    {
        if (_calibration != null) return _calibration;
        Report($"calibration: {_o.CalibrationSamples} × {_o.CalibrationSeqLen} tokens from {Path.GetFileName(_o.CalibrationTextPath)}");
        _calibration = _source.CalibrationFromText(File.ReadAllText(_o.CalibrationTextPath), _o.CalibrationSamples, _o.CalibrationSeqLen,
            $"file {Path.GetFileName(_o.CalibrationTextPath)}");
        return _calibration;
    }

    /// <summary>The source as an F32 GGUF with our tokenizer's vocabulary (what `awq export-gguf` writes), made once.</summary>
    private string F32Gguf()
    {
        // A Lazy caches its exception too: every llama.cpp row then reports why the export failed.
        _f32Gguf ??= new Lazy<string>(() =>
        {
            var path = Path.Combine(_o.WorkFolder, "gguf", "model-f32.gguf");
            Report("exporting the source as F32 GGUF");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            GgufModelExporter.Export(_source.Source, path, GgufExportType.F32, GgufTokenizerWriter.ToMetadata(_source.Tokenizer.Spec),
                Path.GetFileNameWithoutExtension(_o.ModelPath.TrimEnd('/', '\\')));
            return path;
        });
        return _f32Gguf.Value;
    }

    /// <summary>AWQ scales of group size <paramref name="group"/> folded into the FP32 weights, as F32 GGUF, made once per group size.</summary>
    private string ScaledGguf(int group)
    {
        if (!_scaledGguf.TryGetValue(group, out var lazy))
        {
            lazy = new Lazy<string>(() =>
            {
                var path = Path.Combine(_o.WorkFolder, "gguf", $"awq-scaled-g{group}-f32.gguf");
                var config = new AwqConfig { GroupSize = group };
                LlamaModel scaled;
                if (!_o.AwqScaledClip && _awqSearches.TryGetValue(group, out var searched))
                {
                    Report($"AWQ scales g{group}: folding the scales the AWQ g{group} row chose");
                    scaled = AwqQuantizer.FoldScales(_source.Source, searched);
                }
                else
                {
                    scaled = AwqQuantizer.ApplyScales(_source.Source, Calibration(), config, _o.AwqScaledClip,
                        new InlineProgress<QuantProgress>(p => Report($"AWQ scales g{group}: block {Math.Min(p.Layer + 1, p.Layers)}/{p.Layers} {p.Step}",
                            (p.Layer + (double)p.StepIndex / Math.Max(p.Steps, 1)) / p.Layers)), _cancel).Model;
                }
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                using var weights = new ModelWeightSource(scaled, $"{_o.ModelPath} (AWQ-scaled g{group})");
                GgufModelExporter.Export(weights, path, GgufExportType.F32, GgufTokenizerWriter.ToMetadata(_source.Tokenizer.Spec),
                    $"{Path.GetFileNameWithoutExtension(_o.ModelPath.TrimEnd('/', '\\'))}-awq-scaled-g{group}");
                return path;
            });
            _scaledGguf[group] = lazy;
        }
        return lazy.Value;
    }

    private IReadOnlyList<GgufTensorInfo> TensorTable(string gguf)
    {
        if (!_tensorTables.TryGetValue(gguf, out var t)) _tensorTables[gguf] = t = GgufTensorTable.Read(gguf);
        return t;
    }

    // ---------------------------------------------------------------- measuring

    private void Evaluate(RecordingLogitsSource reference, List<RowState> rows, IReadOnlyList<EvalWindow> windows)
    {
        var runnable = rows.Where(r => r.Row.Error == null && r.Logits != null).ToList();
        if (runnable.Count == 0) return;
        foreach (var r in runnable) r.Guard = new GuardedLogitsSource(r.Logits!);
        Report($"evaluating {runnable.Count} rows on {windows.Count} windows");
        var results = Evaluator.Compare(reference, runnable.Select(r => (ILogitsSource)r.Guard!).ToList(), windows,
            new InlineProgress<(int Done, int Total)>(p =>
            {
                _cancel.ThrowIfCancellationRequested();
                Report($"evaluating: window {p.Done}/{p.Total}", (double)p.Done / p.Total);
            }));
        for (var i = 0; i < runnable.Count; i++)
        {
            var r = runnable[i];
            if (r.Guard!.Failure is { } e)
            {
                r.Fail("evaluate", e);
                continue;
            }
            var m = results[i].Summary();
            r.Row = r.Row with
            {
                Perplexity = m.Perplexity, MeanKld = m.MeanKld, KldP99 = m.KldP99, Top1Agreement = m.Top1Agreement, RmsDeltaP = m.RmsDeltaP,
            };
        }
        Report($"evaluated {runnable.Count} rows on {windows.Count} windows", milestone: true);
    }

    private void MeasureSpeed(List<RowState> rows, int[] ids, int bosId)
    {
        if (_o.SpeedPromptTokens == 0 && _o.SpeedDecodeTokens == 0) return;
        var prompt = ids.AsSpan(0, Math.Min(_o.SpeedPromptTokens, ids.Length)).ToArray();
        var first = bosId >= 0 ? bosId : ids[0];
        foreach (var r in rows.Where(r => r.Row.Error == null && r.Speed != null))
        {
            _cancel.ThrowIfCancellationRequested();
            Report($"{r.Row.Name}: measuring speed");
            try
            {
                var speed = r.Speed!(prompt, first);
                r.Row = r.Row with
                {
                    PrefillTokensPerSecond = double.IsNaN(speed.PrefillTokensPerSecond) ? null : speed.PrefillTokensPerSecond,
                    DecodeTokensPerSecond = double.IsNaN(speed.DecodeTokensPerSecond) ? null : speed.DecodeTokensPerSecond,
                };
            }
            catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
            {
                r.Fail("speed", e);
            }
        }
        Report("speed measured", milestone: true);
    }

    // ---------------------------------------------------------------- helpers

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private void Report(string message, double? fraction = null, bool milestone = false) =>
        _progress.Report(new ComparisonProgress(message, fraction, milestone));

    /// <summary>A folder/file name for a row: "AWQ g32, down_proj fp16" → "awq-g32-down_proj-fp16".</summary>
    internal static string Slug(string name)
    {
        var chars = name.ToLowerInvariant().Select(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_' ? ch : '-').ToArray();
        var slug = new string(chars);
        while (slug.Contains("--", StringComparison.Ordinal)) slug = slug.Replace("--", "-", StringComparison.Ordinal);
        return slug.Trim('-');
    }

    /// <summary>The exception's message, with llama.cpp's quoted reasons when it carries them.</summary>
    private static string Message(Exception e) => e switch
    {
        AggregateException { InnerExceptions.Count: 1 } a => Message(a.InnerExceptions[0]),
        _ => e.Message.ReplaceLineEndings(" "),
    };
}
