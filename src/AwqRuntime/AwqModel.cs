using AwqRuntime.Formats;
using AwqRuntime.Formats.Awq;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Generation;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Observers;
using AwqRuntime.Tokenization;

namespace AwqRuntime;

/// <summary>
/// The public entry point, shaped like AutoAWQ's API:
/// <code>
/// using var model = AwqModel.FromPretrained("stories260K.bin", "tok512.bin");
/// model.Quantize(model.CalibrationFromText(text, 128, 512), new AwqConfig { GroupSize = 32 });
/// model.SaveQuantized("out/");
/// using var q = AwqModel.FromQuantized("out/");
/// await foreach (var piece in q.GenerateAsync("Once upon a time")) Console.Write(piece.Text);
/// </code>
/// A full-precision checkpoint stays memory-mapped: quantization streams it block by block, and
/// the fp32 runtime model is only materialised when something runs it.
/// </summary>
public sealed class AwqModel : IDisposable
{
    private IWeightSource? _source;
    private LlamaModel? _model;

    private AwqModel(string path, CheckpointFormat format, LlamaConfig config, ITokenizer tokenizer)
    {
        Path = path;
        Format = format;
        Config = config;
        Tokenizer = tokenizer;
    }

    public string Path { get; }
    public CheckpointFormat Format { get; }
    public LlamaConfig Config { get; private set; }
    public ITokenizer Tokenizer { get; }

    /// <summary>The AWQ settings of a quantized model (loaded or just quantized); null for full precision.</summary>
    public AwqQuantizationConfig? Quantization { get; private set; }

    /// <summary>The result of <see cref="Quantize"/>, when this instance ran it.</summary>
    public QuantizationResult? LastQuantization { get; private set; }

    /// <summary>The W8A8 settings of an INT8 model (loaded or just quantized); null otherwise.</summary>
    public Int8QuantizationConfig? Int8Quantization { get; private set; }

    /// <summary>The INT4 settings of a compressed-tensors pack-quantized checkpoint (loaded); null otherwise.</summary>
    public PackQuantizedConfig? PackQuantized { get; private set; }

    /// <summary>True when the linears are INT4 (AWQ, RTN, GPTQ in either INT4 layout); false for 2, 3 and 8 bits.</summary>
    public bool IsInt4 => (Quantization?.Bits ?? PackQuantized?.Bits) == 4 && PackQuantized?.Mixed != true;

    public bool IsQuantized => Quantization != null || Int8Quantization != null || PackQuantized != null;

    /// <summary>The runnable model (fp32 reference, or INT4 after quantization / for AWQ checkpoints).</summary>
    public LlamaModel Model => _model ??= LlamaModel.FromWeights(_source ?? throw new ObjectDisposedException(nameof(AwqModel)));

    /// <summary>A full-precision checkpoint: HF folder, .gguf, or llama2.c .bin (which needs <paramref name="tokenizerPath"/>).</summary>
    /// <param name="allowNonFinite">Load weights holding NaN or ±Inf instead of refusing them (<see cref="NonFiniteCheck"/>).</param>
    public static AwqModel FromPretrained(string path, string? tokenizerPath = null, bool allowNonFinite = false)
    {
        var format = CheckpointLoader.Detect(path);
        var source = CheckpointLoader.Open(path);
        if (source is WeightSourceBase checkedSource) checkedSource.AllowNonFinite = allowNonFinite;
        try
        {
            if (source is HfWeightSource { HfConfig.IsQuantized: true })
                throw new InvalidDataException($"{path}: this is a quantized checkpoint; load it with FromQuantized (or `awq` commands, which detect it)");
            var tokenizer = Tokenization.Tokenizer.FromSpec(LoadTokenizerSpec(path, format, tokenizerPath, source.Config.VocabSize));
            return new AwqModel(path, format, source.Config, tokenizer) { _source = source };
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An AutoAWQ GEMM checkpoint folder (ours or AutoAWQ's) or a compressed-tensors pack-quantized INT4 one
    /// (ours or llm-compressor's W4A16), repacked for the INT4 kernels; or a W8A8
    /// INT8 one (compressed-tensors int-quantized config), run by <see cref="Int8Linear"/>.
    /// </summary>
    public static AwqModel FromQuantized(string folder, string? tokenizerPath = null, bool allowNonFinite = false)
    {
        LlamaModel model;
        AwqQuantizationConfig? quant = null;
        Int8QuantizationConfig? int8 = null;
        PackQuantizedConfig? packed = null;
        var hf = Directory.Exists(folder) && File.Exists(System.IO.Path.Combine(folder, HfModelConfig.FileName)) ? HfModelConfig.ReadFolder(folder) : null;
        if (hf?.Int8Quantization != null)
            (model, int8) = Formats.Int8.Int8CheckpointReader.Load(folder, allowNonFinite);
        else if (hf?.PackQuantized != null)
            (model, packed) = Formats.CompressedTensors.PackQuantizedReader.Load(folder, allowNonFinite);
        else
            (model, quant) = AwqCheckpointReader.Load(folder, allowNonFinite);
        var tokenizer = Tokenization.Tokenizer.FromSpec(LoadTokenizerSpec(folder, CheckpointFormat.HuggingFace, tokenizerPath, model.Config.VocabSize));
        return new AwqModel(folder, CheckpointFormat.HuggingFace, model.Config, tokenizer)
        {
            _model = model, Quantization = quant, Int8Quantization = int8, PackQuantized = packed,
        };
    }

    /// <summary>Whatever <paramref name="path"/> holds: an AWQ folder loads quantized, anything else full precision.</summary>
    public static AwqModel Load(string path, string? tokenizerPath = null, bool allowNonFinite = false) =>
        IsAwqFolder(path) ? FromQuantized(path, tokenizerPath, allowNonFinite) : FromPretrained(path, tokenizerPath, allowNonFinite);

    public static bool IsAwqFolder(string path) =>
        Directory.Exists(path) && File.Exists(System.IO.Path.Combine(path, HfModelConfig.FileName)) &&
        HfModelConfig.ReadFolder(path).IsQuantized;

    /// <summary>
    /// Runs the classifier (lm_head, or the tied embedding) as INT8 with dynamic activation quantization
    /// (<see cref="Int8Linear"/>): half the bytes of fp16 per token, at a small cost in fidelity that
    /// `awq eval --ref` measures. A run-time choice; checkpoints keep their fp16 classifier.
    /// </summary>
    public void UseInt8Classifier()
    {
        var m = Model;
        if (m.Output is Int8Linear) return;
        _model = m.WithClassifier(Int8Linear.From(m.Output));
    }

    /// <summary>
    /// Runs the classifier as group-wise INT4 (RTN, AutoAWQ's asymmetric scheme, <paramref name="groupSize"/>
    /// along the hidden size) on the INT4 kernels: about a quarter of the bytes of fp16 per token, at a
    /// cost in fidelity `awq eval --ref` measures. A run-time choice; checkpoints keep their classifier.
    /// </summary>
    public void UseInt4Classifier(int groupSize = 32)
    {
        var m = Model;
        if (m.Output is Int4Linear) return;
        var w = LinearWeights.ToFloat32(m.Output);
        _model = m.WithClassifier(new Int4Linear(GroupQuantizer.Quantize(w, m.Output.OutFeatures, m.Output.InFeatures, groupSize, 4)));
    }

    /// <summary>
    /// Runs every INT4 linear on <paramref name="kernel"/>: <see cref="Int4Kernel.W4A16"/> (exact, the
    /// default) or <see cref="Int4Kernel.W4A8"/> (int8 activations, integer dot products; faster, at a
    /// cost `awq eval --ref` measures). The packed weights are shared; W4A8 adds its tile tables and, where
    /// the CPU's kernel is the AVX2 one, a copy of the weights in that kernel's order (<see cref="Native.Kernels.W4A8Prepare"/>).
    /// </summary>
    public void UseKernel(Int4Kernel kernel) => _model = Model.WithInt4Kernel(kernel);

    /// <summary>
    /// Runs the model on <paramref name="backend"/> (<see cref="Backends.ComputeDevices.Open"/>: "cpu",
    /// "cuda:0"); caches and buffers made afterwards live there. The weights are uploaded on first use.
    /// </summary>
    public void UseBackend(Backends.IComputeBackend backend) => _model = Model.WithBackend(backend);

    /// <summary>Calibration sequences from text with this model's tokenizer (AutoAWQ's recipe, see <see cref="CalibrationSet.FromText"/>).</summary>
    public CalibrationSet CalibrationFromText(string text, int samples = 128, int seqLen = 512, string source = "text") =>
        CalibrationSet.FromText(text, t => Tokenizer.Encode(t, addBos: Tokenizer.Spec.BosId >= 0), samples, seqLen, source);

    /// <summary>Calibration sequences sampled from the model itself (no data needed).</summary>
    public CalibrationSet CalibrationFromSelf(int samples = 128, int seqLen = 512, ulong seed = 42) =>
        CalibrationSet.FromModel(Model, Tokenizer.Spec.BosId, samples, seqLen, seed);

    /// <summary>
    /// Quantizes this full-precision model; afterwards <see cref="Model"/> runs on the INT4 kernels.
    /// <paramref name="searchedScales"/>: the <see cref="QuantizationResult.Blocks"/> of an earlier AWQ run of
    /// this model with the same calibration and group size, to skip the scale search.
    /// </summary>
    /// <param name="journal">A work folder for crash-safe, resumable quantization (<see cref="Quantization.Resume.QuantizationJournal"/>); not with <paramref name="searchedScales"/>.</param>
    public QuantizationResult Quantize(CalibrationSet calibration, AwqConfig config, IProgress<QuantProgress>? progress = null,
        CancellationToken cancel = default, IReadOnlyList<BlockReport>? searchedScales = null, Quantization.Resume.QuantizationJournal? journal = null)
    {
        if (IsQuantized) throw new InvalidOperationException($"{Path} is already quantized");
        var source = _source ?? throw new ObjectDisposedException(nameof(AwqModel));
        if (journal != null && searchedScales != null) throw new ArgumentException("a journal and searched scales cannot be combined", nameof(journal));
        var result = searchedScales == null
            ? AwqQuantizer.Quantize(source, calibration, config, progress, cancel, journal)
            : AwqQuantizer.Quantize(source, calibration, config, searchedScales, progress, cancel);
        LastQuantization = result;
        _model = result.Model;
        if (config.Method.IsInt4() && config.Mixed)
            PackQuantized = new PackQuantizedConfig
            {
                GroupSize = config.GroupSize, Bits = config.WBit, Ignore = Int8QuantizationConfig.IgnoreFor(config.ModulesToNotConvert),
                ModuleBits = LinearKinds.All.Where(k => !config.ModulesToNotConvert.Contains(k.Name())).ToDictionary(k => k.Name(), config.BitsFor),
            };
        else if (config.Method.IsInt4())
            Quantization = new AwqQuantizationConfig
            {
                Bits = config.WBit, GroupSize = config.GroupSize, ZeroPoint = config.ZeroPoint, ModulesToNotConvert = config.ModulesToNotConvert.ToArray(),
            };
        else
            Int8Quantization = new Int8QuantizationConfig
            {
                Ignore = Int8QuantizationConfig.IgnoreFor(config.ModulesToNotConvert), StaticActivations = config.Method == QuantMethod.W8A8Static,
                Observer = config.Method == QuantMethod.W8A8Static ? config.Observer.Name() : null,
            };
        return result;
    }

    /// <summary>Writes the AutoAWQ checkpoint (config, safetensors, tokenizer files) after <see cref="Quantize"/>.</summary>
    /// <param name="format">AutoAWQ's GEMM layout (the default) or compressed-tensors' pack-quantized one, for INT4 linears.</param>
    /// <param name="staging">Where to assemble the folder before renaming it onto <paramref name="folder"/> (same file system; default: a temporary sibling).</param>
    public void SaveQuantized(string folder, bool overwrite = false, Int4CheckpointFormat format = Int4CheckpointFormat.AutoAwq, string? staging = null)
    {
        var result = LastQuantization ?? throw new InvalidOperationException("nothing to save: call Quantize first");
        AwqCheckpointWriter.Write(result, folder, dir => WriteTokenizerFiles(dir), overwrite, format, staging);
    }

    /// <summary>Writes tokenizer.json (+ tokenizer_config.json) describing this model's vocabulary into <paramref name="folder"/>.</summary>
    public void WriteTokenizerFiles(string folder) => HfTokenizerWriter.Write(Tokenizer.Spec, folder);

    public TextGenerator CreateGenerator(int contextSize = 0) => new(Model, Tokenizer, contextSize);

    public IAsyncEnumerable<GenerationChunk> GenerateAsync(string prompt, GenerationOptions? options = null, CancellationToken cancel = default) =>
        CreateGenerator().GenerateAsync(prompt, options ?? new GenerationOptions(), cancel);

    /// <summary>The checkpoint's weights as stored (for exports), while the source is open.</summary>
    public IWeightSource Source => _source ?? throw new InvalidOperationException($"{Path}: no full-precision source is open (quantized model)");

    public void Dispose()
    {
        _source?.Dispose();
        _source = null;
    }

    private static TokenizerSpec LoadTokenizerSpec(string path, CheckpointFormat format, string? tokenizerPath, int vocabSize)
    {
        var spec = ReadTokenizerSpec(path, format, tokenizerPath, vocabSize);
        if (spec.VocabSize != vocabSize)
            throw new InvalidDataException($"{tokenizerPath ?? path}: the tokenizer has {spec.VocabSize} tokens but the model's vocabulary is {vocabSize}");
        return spec;
    }

    /// <summary>
    /// The vocabulary of a checkpoint without reading its weights: <paramref name="tokenizerPath"/> when
    /// given, else the one a GGUF or HF folder carries (a llama2.c .bin has none).
    /// </summary>
    public static TokenizerSpec ReadTokenizerSpec(string path, string? tokenizerPath = null) =>
        ReadTokenizerSpec(path, CheckpointLoader.Detect(path), tokenizerPath, null);

    private static TokenizerSpec ReadTokenizerSpec(string path, CheckpointFormat format, string? tokenizerPath, int? vocabSize)
    {
        if (tokenizerPath != null) return TokenizerFiles.Read(tokenizerPath, vocabSize);
        return format switch
        {
            CheckpointFormat.Gguf => TokenizerFiles.Read(path, vocabSize),
            CheckpointFormat.HuggingFace => TokenizerFiles.Read(Directory.Exists(path) ? path : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, vocabSize),
            _ => throw new ArgumentException($"{path}: llama2.c checkpoints carry no tokenizer; give one with --tokenizer (for example tok512.bin or tokenizer.bin)"),
        };
    }
}
