using System.Diagnostics;
using System.Globalization;
using AwqRuntime.Evaluation;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Observers;
using AwqRuntime.Tokenization;
// Formats.Gguf has a GgufTensorInfo of its own (our reader's); the rows use llama.cpp's view of a file.
using GgufTensorInfo = AwqRuntime.LlamaSharp.GgufTensorInfo;

namespace AwqRuntime.Comparison;

/// <summary>
/// Builds every requested row (our FP32/AWQ/RTN checkpoints, llama.cpp GGUFs), evaluates each on the
/// same token ids against our FP32 model, measures their speed at one thread count, and returns the
/// report. A row that cannot be built or run becomes a row carrying its error; the others go on.
/// Rows run one after another, so memory holds about one model and one window at a time: first the
/// FP32 model runs every window once, its logits at the scored positions going to a file in the
/// work folder (<see cref="ReferenceLogitsFile"/>), and is scored and timed as the FP32 row; it is
/// released before any other row is built. Then each row is built (quantized to disk from the
/// checkpoint, which quantization streams block by block, or converted by llama.cpp), loaded,
/// scored against the stored reference, timed and released before the next. Whatever a later row
/// reuses is on disk (checkpoints, GGUFs) or small (calibration ids, AWQ scales).
/// </summary>
public sealed class ComparisonRunner : IDisposable
{
    private readonly ComparisonOptions _o;
    private readonly IProgress<ComparisonProgress> _progress;
    private readonly CancellationToken _cancel;
    private readonly Action<object>? _modelLoaded;
    // Open for its config and tokenizer only: steps that read weights open the checkpoint themselves,
    // so the pages they map are released with them.
    private readonly AwqModel _source;
    private readonly int _threads;
    private CalibrationSet? _calibration;
    private IReadOnlyDictionary<string, float[]>? _importance;
    private Lazy<string>? _f32Gguf;
    private readonly Dictionary<int, Lazy<string>> _scaledGguf = [];
    // Scales chosen by an AWQ row of this run, per group size: the AWQ-scaled rows fold them instead of searching again.
    private readonly Dictionary<int, IReadOnlyList<BlockReport>> _awqSearches = [];
    private readonly Dictionary<int, string> _awqCheckpoints = [];
    private readonly Dictionary<string, IReadOnlyList<GgufTensorInfo>> _tensorTables = [];

    private double? _loadBeforeSpeed, _loadAfterSpeed;
    private string _step = "";

    private ComparisonRunner(ComparisonOptions options, IProgress<ComparisonProgress>? progress, CancellationToken cancel, Action<object>? modelLoaded)
    {
        _o = options;
        _progress = progress ?? new Progress<ComparisonProgress>();
        _cancel = cancel;
        _modelLoaded = modelLoaded;
        _threads = options.Threads ?? Environment.ProcessorCount;
        _source = AwqModel.FromPretrained(options.ModelPath, options.TokenizerPath);
    }

    public static ComparisonReport Run(ComparisonOptions options, IProgress<ComparisonProgress>? progress = null, CancellationToken cancel = default) =>
        Run(options, progress, cancel, modelLoaded: null);

    /// <param name="modelLoaded">Called with each model a row runs (our <see cref="LlamaModel"/>, a <see cref="LlamaCppModel"/>) once it is loaded: tests watch row lifetimes through it.</param>
    internal static ComparisonReport Run(ComparisonOptions options, IProgress<ComparisonProgress>? progress, CancellationToken cancel, Action<object>? modelLoaded)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var previousThreads = Native.Kernels.Threads;
        Native.Kernels.Threads = options.Threads ?? Environment.ProcessorCount;
        try
        {
            using var runner = new ComparisonRunner(options, progress, cancel, modelLoaded);
            return runner.Execute();
        }
        finally
        {
            Native.Kernels.Threads = previousThreads;
        }
    }

    public void Dispose() => _source.Dispose();

    /// <summary>A row under construction: what was measured so far, and, until <see cref="Release"/>, what runs it.</summary>
    private sealed class RowState(ComparisonRowSpec spec, string name)
    {
        private readonly List<IDisposable> _owned = [];

        public ComparisonRowSpec Spec { get; } = spec;
        public ComparisonRow Row { get; set; } = new() { Name = name, Kind = spec.Kind, Runtime = spec.IsOurs ? "ours" : "llama.cpp", Format = "" };
        public ILogitsSource? Logits { get; set; }
        public Func<int[], int, SpeedResult>? Speed { get; set; }

        public bool Runnable => Row.Error == null && Logits != null;

        public void Fail(string stage, Exception e) => Row = Row with { Error = $"{stage}: {Message(e)}" };

        public T Own<T>(T disposable) where T : IDisposable
        {
            _owned.Add(disposable);
            return disposable;
        }

        /// <summary>Disposes what the row loaded and drops every reference to its model: only its measurements stay.</summary>
        public void Release()
        {
            Logits = null;
            Speed = null;
            for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
            _owned.Clear();
        }
    }

    private ComparisonReport Execute()
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = _source.Tokenizer;
        var text = File.ReadAllText(_o.EvalTextPath);
        var ids = tokenizer.Encode(text, addBos: true);
        var windows = EvalWindows.Build(ids, _o.Context, tokenizer.Spec.BosId, _o.MaxChunks ?? int.MaxValue);
        Report($"evaluation text: {ids.Length:N0} tokens, {windows.Count} windows of {_o.Context}", milestone: true);
        var prompt = ids.AsSpan(0, Math.Min(_o.SpeedPromptTokens, ids.Length)).ToArray();
        var first = tokenizer.Spec.BosId >= 0 ? tokenizer.Spec.BosId : ids[0];

        var notes = new List<string>();
        var states = new RowState?[_o.Rows.Count];
        var steps = _o.Rows.Count(r => r.Kind != ComparisonRowKind.OursFp32) + 1;
        using (var reference = new ReferenceLogitsFile(_o.WorkFolder, windows, _source.Config.VocabSize))
        {
            var fp32 = _o.Rows.ToList().FindIndex(r => r.Kind == ComparisonRowKind.OursFp32);
            _step = $"[1/{steps}] ";
            var referenceRow = RunReference(fp32 >= 0 ? _o.Rows[fp32] : null, reference, windows, prompt, first);
            if (fp32 >= 0) states[fp32] = referenceRow;
            CompactMemory();
            var step = 1;
            for (var i = 0; i < _o.Rows.Count; i++)
            {
                if (i == fp32) continue;
                _cancel.ThrowIfCancellationRequested();
                _step = $"[{++step}/{steps}] ";
                states[i] = RunRow(_o.Rows[i], reference, windows, prompt, first, notes);
            }
            _step = "";
        }
        var rows = states.OfType<RowState>().ToList();
        if (Speed && _loadBeforeSpeed == null) _loadBeforeSpeed = _loadAfterSpeed = MachineInfo.LoadAverage();

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
            LoadAverageBeforeSpeed = _loadBeforeSpeed,
            LoadAverageAfterSpeed = _loadAfterSpeed,
            LlamaCppKvCache = _o.LlamaCppKvCache.ToString(),
            Reference = ReferenceName,
            Machine = MachineInfo.Collect(),
            Date = DateTimeOffset.Now,
            GitCommit = _o.GitCommit,
            Elapsed = clock.Elapsed,
            Notes = notes,
        };
        return new ComparisonReport(metadata, rows.Select(r => r.Row).ToList());
    }

    // ---------------------------------------------------------------- the rows, one after another

    private const string ReferenceName = "FP32 (ours)";

    private bool Speed => _o.SpeedPromptTokens > 0 || _o.SpeedDecodeTokens > 0;

    /// <summary>
    /// Runs the FP32 model over every window once, storing its scored logits in <paramref name="file"/>;
    /// when the FP32 row is asked for (<paramref name="spec"/>), scores it (against itself, by
    /// replaying each window: KLD 0, its own perplexity) and times it. The model is released on return.
    /// </summary>
    private RowState? RunReference(ComparisonRowSpec? spec, ReferenceLogitsFile file, IReadOnlyList<EvalWindow> windows, int[] prompt, int first)
    {
        var state = spec == null ? null : new RowState(spec, spec.Name);
        if (state != null) Build(state, () => BuildOursFp32(state));
        Report($"{ReferenceName}: running {windows.Count} windows, their logits at the scored positions stored as float32 in {file.Path} ({ComparisonFormat.Bytes(file.Bytes)})", milestone: true);
        LlamaModel model;
        // The fp32 runtime model is a copy of the weights: the checkpoint's mapping can go at once.
        using (var source = AwqModel.FromPretrained(_o.ModelPath, _o.TokenizerPath)) model = source.Model;
        _modelLoaded?.Invoke(model);
        var writer = new ReferenceLogitsWriter(new RuntimeLogitsSource(model, ReferenceName), file, windows);
        var recording = new RecordingLogitsSource(writer);
        var scored = state?.Row.Error == null ? state : null;
        try
        {
            if (scored != null)
            {
                scored.Logits = recording.Replay(scored.Row.Name);
                scored.Speed = (p, f) => SpeedBenchmark.Ours(model, p, f, _o.SpeedDecodeTokens, _o.SpeedRuns);
            }
            var clock = Stopwatch.StartNew();
            var results = Evaluator.Compare(recording, scored == null ? [] : [scored.Logits!], windows, WindowProgress(ReferenceName));
            if (writer.Written != windows.Count) throw new InvalidOperationException($"the reference stored {writer.Written} of {windows.Count} windows");
            if (scored != null)
            {
                SetMetrics(scored, results[0]);
                Report($"{scored.Row.Name}: evaluated on {windows.Count} windows in {clock.Elapsed.TotalSeconds:F1} s", milestone: true);
                MeasureSpeed(scored, prompt, first);
            }
            else Report($"{ReferenceName}: {windows.Count} windows in {clock.Elapsed.TotalSeconds:F1} s", milestone: true);
        }
        finally
        {
            scored?.Release();
        }
        return state;
    }

    /// <summary>Builds one row, scores it against the stored reference, times it, and releases it (also on failure or cancellation).</summary>
    private RowState? RunRow(ComparisonRowSpec spec, ReferenceLogitsFile reference, IReadOnlyList<EvalWindow> windows, int[] prompt, int first, List<string> notes)
    {
        var name = spec.Name;
        IReadOnlyList<string> notConvert = [];
        if (spec.KeepsUnsplittableInFp16)
        {
            notConvert = LinearsLlamaCppCannotSplit(_source.Config);
            if (notConvert.Count == 0)
            {
                notes.Add(ComparisonNotes.RowOmitted(name));
                Report($"{name}: omitted (llama.cpp's blocks split every linear of this model)", milestone: true);
                return null;
            }
            name = $"{spec.MethodLabel} g{spec.GroupSize}, {string.Join("+", notConvert)} fp16";
        }
        var state = new RowState(spec, name);
        try
        {
            Build(state, () => BuildRow(state, notConvert));
            Evaluate(state, reference, windows);
            MeasureSpeed(state, prompt, first);
        }
        finally
        {
            state.Release();
            CompactMemory();
        }
        return state;
    }

    private void BuildRow(RowState state, IReadOnlyList<string> notConvert)
    {
        var spec = state.Spec;
        switch (spec.Kind)
        {
            case ComparisonRowKind.OursFp32: throw new InvalidOperationException("the FP32 row is the reference's");
            case ComparisonRowKind.OursAwq: BuildOurs(state, QuantMethod.Awq, []); break;
            case ComparisonRowKind.OursRtn: BuildOurs(state, QuantMethod.Rtn, []); break;
            case ComparisonRowKind.OursAwqLlamaCppCompatible: BuildOurs(state, QuantMethod.Awq, notConvert); break;
            case ComparisonRowKind.OursMethod: BuildOurs(state, spec.Method, notConvert); break;
            case ComparisonRowKind.LlamaCppF32: BuildLlamaCppF32(state); break;
            case ComparisonRowKind.LlamaCppQuantized: BuildLlamaCppQuantized(state, F32Gguf(), spec.GgufType!, "llama.cpp"); break;
            case ComparisonRowKind.AwqScaledLlamaCpp: BuildLlamaCppQuantized(state, ScaledGguf(spec.GroupSize), spec.GgufType!, $"AWQ-scaled (g{spec.GroupSize}) then llama.cpp"); break;
            case ComparisonRowKind.AwqAsQ4_1LlamaCpp: BuildAwqAsQ4_1(state); break;
            case ComparisonRowKind.LlamaCppImatrix: BuildLlamaCppQuantized(state, F32Gguf(), spec.GgufType!, "llama.cpp with our imatrix", Importance()); break;
            default: throw new ArgumentOutOfRangeException(nameof(state), spec.Kind, "unknown row kind");
        }
    }

    // ---------------------------------------------------------------- building rows

    /// <summary>Runs <paramref name="build"/> for the row, timing it; a failure becomes the row's error.</summary>
    private void Build(RowState state, Action build)
    {
        var name = state.Row.Name;
        var clock = Stopwatch.StartNew();
        Report($"{name}: building");
        try
        {
            build();
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            state.Fail("build", e);
        }
        state.Row = state.Row with { BuildSeconds = clock.Elapsed.TotalSeconds };
        Report(state.Row.Error is { } err ? $"{name}: FAILED — {err}" : $"{name}: built in {clock.Elapsed.TotalSeconds:F1} s", milestone: true);
    }

    /// <summary>Linear kinds whose input width (the GGUF row length) 32 does not divide: llama.cpp's plain formats cannot store them.</summary>
    public static IReadOnlyList<string> LinearsLlamaCppCannotSplit(LlamaConfig c) =>
        LinearKinds.All.Where(k => k.Shape(c)[1] % 32 != 0).Select(k => k.Name()).ToList();

    /// <summary>The FP32 row's description; <see cref="RunReference"/> runs it.</summary>
    private void BuildOursFp32(RowState s)
    {
        var size = CheckpointSize.Measure(_o.ModelPath);
        s.Row = WithSize(s.Row, size) with { Format = _source.Format switch
        {
            CheckpointFormat.Llama2c => "FP32 (llama2.c file)",
            CheckpointFormat.Gguf => "FP32 (from GGUF)",
            _ => "FP32 (from safetensors)",
        }, Path = Path.GetFullPath(_o.ModelPath) };
    }

    private void BuildOurs(RowState s, QuantMethod method, IReadOnlyList<string> notConvert)
    {
        var config = new AwqConfig
        {
            Method = method, GroupSize = method.IsInt4() ? s.Spec.GroupSize : new AwqConfig().GroupSize, WBit = method.IsInt4() ? s.Spec.WBit : 4,
            ModulesToNotConvert = notConvert, ModuleBits = s.Spec.ModuleBits,
            Observer = method == QuantMethod.W8A8Static ? s.Spec.Observer : ObserverKind.MinMax,
            Qat = _o.Qat,
        }.Validate();
        var dir = Path.Combine(_o.WorkFolder, "ours", Slug(s.Row.Name));
        QuantizeOurs(config, dir, s.Row.Name);
        if (method == QuantMethod.Awq && notConvert.Count == 0 && config.WBit == 4 && !config.Mixed) _awqCheckpoints.TryAdd(config.GroupSize, dir);
        // The row runs what was saved: the checkpoint is reloaded as any user would load it.
        var loaded = s.Own(AwqModel.FromQuantized(dir, _o.TokenizerPath));
        var size = CheckpointSize.Measure(dir);
        var rowNotes = new List<string>();
        if (notConvert.Count > 0)
            rowNotes.Add(ComparisonNotes.KeptInFp16(notConvert, _source.Config));
        s.Row = WithSize(s.Row, size) with
        {
            Format = !method.IsInt4() ? "INT8 W8A8 (compressed-tensors)"
                : config.Mixed ? $"INT{string.Join("/INT", LinearKinds.All.Select(config.BitsFor).Distinct().Order())} g{config.GroupSize} (compressed-tensors pack-quantized)"
                : config.WBit == 4 ? $"INT4 g{config.GroupSize} (AutoAWQ GEMM)" : $"INT{config.WBit} g{config.GroupSize} (compressed-tensors pack-quantized)",
            Path = Path.GetFullPath(dir),
            Notes = rowNotes,
        };
        var model = loaded.Model;
        _modelLoaded?.Invoke(model);
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
        CompactMemory(); // the INT4 model is in the GGUF now
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
            // QAT starts from AWQ's solution, so it reuses AWQ's search too (4-bit searches only: the scale and clip
            // searches depend on the weight width, so mixed widths search for themselves).
            var fourBit = config.WBit == 4 && !config.Mixed;
            var searched = (method is QuantMethod.Awq or QuantMethod.Qat) && fourBit ? _awqSearches.GetValueOrDefault(config.GroupSize) : null;
            var result = m.Quantize(calibration, config, new InlineProgress<QuantProgress>(p =>
                Report($"{label}: block {Math.Min(p.Layer + 1, p.Layers)}/{p.Layers} {p.Step}", (p.Layer + (double)p.StepIndex / Math.Max(p.Steps, 1)) / p.Layers)), _cancel,
                searched);
            m.SaveQuantized(dir, overwrite: true);
            if (method == QuantMethod.Awq && fourBit) _awqSearches.TryAdd(config.GroupSize, result.Blocks);
            // The same calibration gives the same statistics whatever the method: the imatrix rows reuse them.
            if (result.ActivationStats.Count > 0) _importance ??= ImatrixWriter.Importance(result.ActivationStats);
        }
        CompactMemory(); // the quantized model in memory is done with: the row loads what was saved
    }

    private void BuildLlamaCppF32(RowState s)
    {
        var path = F32Gguf();
        // The agreement check needs llama.cpp's KV cache at F32, whatever the other rows use.
        AttachLlamaCpp(s, path, "GGUF F32", KvCacheType.F32, GgufTensorTable.Read(path), []);
    }

    private void BuildLlamaCppQuantized(RowState s, string sourceGguf, string type, string origin, IReadOnlyDictionary<string, float[]>? importance = null)
    {
        var sourceTensors = TensorTable(sourceGguf);
        var overrides = s.Spec.AutoOverrides ? GgufFallbackPlan.Overrides(sourceTensors, type) : new Dictionary<string, string>();
        var dst = Path.Combine(_o.WorkFolder, "gguf", Slug(s.Row.Name) + ".gguf");
        Report($"{s.Row.Name}: llama.cpp quantizing to {type}");
        var result = GgufQuantizer.Quantize(sourceGguf, dst, type, _threads, quantizeOutputTensor: true, overrides, importance);
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
        var model = s.Own(LlamaCppModel.Load(gguf, new LlamaCppOptions
        {
            ContextSize = Math.Max(_o.Context, Math.Max(prompt, _o.SpeedDecodeTokens + 1)),
            Threads = _threads,
            KvCacheType = kv,
        }));
        if (model.VocabSize != _source.Config.VocabSize)
            throw new InvalidDataException($"llama.cpp reads a vocabulary of {model.VocabSize} from {gguf}; the model has {_source.Config.VocabSize}");
        _modelLoaded?.Invoke(model);
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

    /// <summary>
    /// The importance matrix of the imatrix rows, made once: the calibration forward's mean x² per input
    /// column of every linear (what `awq calibrate --imatrix` writes and llama-quantize reads as in_sum2 / counts),
    /// under GGUF tensor names. An earlier AWQ row has already recorded it; otherwise a statistics-only pass runs.
    /// </summary>
    private IReadOnlyDictionary<string, float[]> Importance()
    {
        if (_importance != null) return _importance;
        Report("imatrix: calibration statistics for llama.cpp's quantizer");
        using var src = CheckpointLoader.Open(_o.ModelPath);
        _importance = ImatrixWriter.Importance(AwqQuantizer.Quantize(src, Calibration(), new AwqConfig { Method = QuantMethod.Rtn, CaptureStatistics = true }).ActivationStats);
        CompactMemory(); // the RTN model that came with the statistics is garbage now
        return _importance;
    }

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
            using (var weights = CheckpointLoader.Open(_o.ModelPath))
                GgufModelExporter.Export(weights, path, GgufExportType.F32, GgufTokenizerWriter.ToMetadata(_source.Tokenizer.Spec),
                    Path.GetFileNameWithoutExtension(_o.ModelPath.TrimEnd('/', '\\')));
            CompactMemory(); // the tensors read for the export, before llama.cpp maps the file to quantize it
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
                WriteScaledGguf(group, path);
                CompactMemory(); // the scaled fp32 model is on disk now
                return path;
            });
            _scaledGguf[group] = lazy;
        }
        return lazy.Value;
    }

    private void WriteScaledGguf(int group, string path)
    {
        var config = new AwqConfig { GroupSize = group };
        using var source = CheckpointLoader.Open(_o.ModelPath);
        LlamaModel scaled;
        if (!_o.AwqScaledClip && _awqSearches.TryGetValue(group, out var searched))
        {
            Report($"AWQ scales g{group}: folding the scales the AWQ g{group} row chose");
            scaled = AwqQuantizer.FoldScales(source, searched);
        }
        else
        {
            scaled = AwqQuantizer.ApplyScales(source, Calibration(), config, _o.AwqScaledClip,
                new InlineProgress<QuantProgress>(p => Report($"AWQ scales g{group}: block {Math.Min(p.Layer + 1, p.Layers)}/{p.Layers} {p.Step}",
                    (p.Layer + (double)p.StepIndex / Math.Max(p.Steps, 1)) / p.Layers)), _cancel).Model;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var weights = new ModelWeightSource(scaled, $"{_o.ModelPath} (AWQ-scaled g{group})");
        GgufModelExporter.Export(weights, path, GgufExportType.F32, GgufTokenizerWriter.ToMetadata(_source.Tokenizer.Spec),
            $"{Path.GetFileNameWithoutExtension(_o.ModelPath.TrimEnd('/', '\\'))}-awq-scaled-g{group}");
    }

    private IReadOnlyList<GgufTensorInfo> TensorTable(string gguf)
    {
        if (!_tensorTables.TryGetValue(gguf, out var t)) _tensorTables[gguf] = t = GgufTensorTable.Read(gguf);
        return t;
    }

    // ---------------------------------------------------------------- measuring

    /// <summary>Scores a built row against the stored reference; a failure of the row becomes its error.</summary>
    private void Evaluate(RowState r, ReferenceLogitsFile reference, IReadOnlyList<EvalWindow> windows)
    {
        if (!r.Runnable) return;
        var guard = new GuardedLogitsSource(r.Logits!);
        var clock = Stopwatch.StartNew();
        DistributionComparison? result = null;
        try
        {
            result = CachedReferenceComparison.Compare(reference, guard, windows, WindowProgress(r.Row.Name));
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            r.Fail("evaluate", e);
        }
        if (guard.Failure is { } failure) r.Fail("evaluate", failure);
        if (result == null || r.Row.Error != null)
        {
            Report($"{r.Row.Name}: FAILED — {r.Row.Error}", milestone: true);
            return;
        }
        SetMetrics(r, result);
        Report($"{r.Row.Name}: evaluated on {windows.Count} windows in {clock.Elapsed.TotalSeconds:F1} s", milestone: true);
    }

    private static void SetMetrics(RowState r, DistributionComparison result)
    {
        var m = result.Summary();
        r.Row = r.Row with
        {
            Perplexity = m.Perplexity, MeanKld = m.MeanKld, KldP99 = m.KldP99, Top1Agreement = m.Top1Agreement, RmsDeltaP = m.RmsDeltaP,
        };
    }

    private InlineProgress<(int Done, int Total)> WindowProgress(string name) => new(p =>
    {
        _cancel.ThrowIfCancellationRequested();
        Report($"{name}: window {p.Done}/{p.Total}", (double)p.Done / p.Total);
    });

    private void MeasureSpeed(RowState r, int[] prompt, int first)
    {
        if (!Speed || !r.Runnable || r.Speed == null) return;
        _cancel.ThrowIfCancellationRequested();
        Report($"{r.Row.Name}: measuring speed");
        _loadBeforeSpeed ??= MachineInfo.LoadAverage();
        try
        {
            var speed = r.Speed(prompt, first);
            r.Row = r.Row with
            {
                PrefillTokensPerSecond = double.IsNaN(speed.PrefillTokensPerSecond) ? null : speed.PrefillTokensPerSecond,
                DecodeTokensPerSecond = double.IsNaN(speed.DecodeTokensPerSecond) ? null : speed.DecodeTokensPerSecond,
            };
            Report($"{r.Row.Name}: prefill {ComparisonFormat.Fixed(r.Row.PrefillTokensPerSecond, 1)} tok/s, " +
                $"decode {ComparisonFormat.Fixed(r.Row.DecodeTokensPerSecond, 1)} tok/s", milestone: true);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            r.Fail("speed", e);
            Report($"{r.Row.Name}: FAILED — {r.Row.Error}", milestone: true);
        }
        _loadAfterSpeed = MachineInfo.LoadAverage();
    }

    /// <summary>
    /// Gives the memory of a released row back to the OS before the next is built (the large-object
    /// heap compacted), so the process's resident size follows what is live.
    /// </summary>
    private static void CompactMemory() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);

    // ---------------------------------------------------------------- helpers

    /// <summary>Reports a message of the current step, prefixed with its number ("[3/5] ").</summary>
    private void Report(string message, double? fraction = null, bool milestone = false) =>
        _progress.Report(new ComparisonProgress(_step + message, fraction, milestone));

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
