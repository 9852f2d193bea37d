using System.Buffers.Binary;
using AwqRuntime.Model;

namespace AwqRuntime.Formats.Llama2c;

/// <summary>
/// A llama2.c legacy (version 0) checkpoint, memory-mapped: 7 int32 (dim, hidden_dim, n_layers,
/// n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means an unshared classifier
/// stored at the end), then fp32 arrays token_embedding[vocab][dim], rms_att[L][dim], wq[L][dim][dim],
/// wk[L][kv][dim], wv[L][kv][dim], wo[L][dim][dim], rms_ffn[L][dim], w1[L][hidden][dim],
/// w2[L][dim][hidden], w3[L][hidden][dim], rms_final[dim], freq_cis_real/imag[seq_len][head/2]
/// (skipped), wcls[vocab][dim] if unshared (karpathy/llama2.c export.py legacy_export, run.c
/// memory_map_weights). The file size must equal the size the header implies exactly.
/// llama2.c implies RMS eps 1e-5, RoPE theta 10000 over the whole head, context = seq_len, and q/k
/// already in interleaved-pair order; w1 → gate_proj, w2 → down_proj, w3 → up_proj.
/// </summary>
public sealed class Llama2cWeightSource : WeightSourceBase
{
    private const int HeaderBytes = 28;

    /// <summary>"ak42": llama2.c's newer versioned export (export.py version 1/2).</summary>
    private const uint VersionedMagic = 0x616b3432;

    private readonly MappedFile _file;
    private readonly Dictionary<string, long> _offsets = new(StringComparer.Ordinal);

    private Llama2cWeightSource(MappedFile file) : base(file.Path) => _file = file;

    /// <summary>True when the classifier is the token embedding (positive vocab_size in the header).</summary>
    public bool SharedClassifier { get; private set; }

    public override string ContextOrigin => $"{Path}: seq_len";

    public static Llama2cWeightSource Open(string path)
    {
        var file = new MappedFile(path);
        var src = new Llama2cWeightSource(file);
        return BuildOrDispose(src, src.Build);
    }

    private void Build()
    {
        if (_file.Length < HeaderBytes)
            throw new InvalidDataException($"{Path}: llama2.c checkpoint: file is {_file.Length} bytes, shorter than the 28-byte header");
        var h = _file.Span(0, HeaderBytes).ToArray();
        if (BinaryPrimitives.ReadUInt32LittleEndian(h) == VersionedMagic)
            throw new InvalidDataException($"{Path}: llama2.c versioned export (magic \"ak42\") is not supported; export with --version 0 (legacy)");
        int F(int i) => BinaryPrimitives.ReadInt32LittleEndian(h.AsSpan(4 * i));
        int dim = F(0), hidden = F(1), layers = F(2), heads = F(3), kvHeads = F(4), vocabRaw = F(5), seqLen = F(6);
        string Header() => $"header dim={dim} hidden_dim={hidden} n_layers={layers} n_heads={heads} n_kv_heads={kvHeads} vocab_size={vocabRaw} seq_len={seqLen}";

        if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || seqLen <= 0 || vocabRaw == 0 || vocabRaw == int.MinValue)
            throw new InvalidDataException($"{Path}: not a model file (no GGUF magic, no Hugging Face config.json, and its llama2.c {Header()} has a zero or negative size; corrupt, or not a checkpoint)");
        if (dim % heads != 0 || heads % kvHeads != 0 || dim / heads % 2 != 0)
            throw new InvalidDataException($"{Path}: not a model file (no GGUF magic, no Hugging Face config.json, and its llama2.c {Header()} is inconsistent: dim must split into n_heads even-width heads, n_heads must be a multiple of n_kv_heads)");
        SharedClassifier = vocabRaw > 0;
        var vocab = Math.Abs(vocabRaw);
        var headSize = dim / heads;
        var kvDim = (long)kvHeads * headSize;

        // Int128: a corrupt header of 2^31-sized fields must not overflow into a plausible size.
        Int128 L = layers, D = dim, Hd = hidden, V = vocab, Kv = kvDim;
        var floats = V * D + L * D * 2 + L * D * D * 2 + L * Kv * D * 2 + L * Hd * D * 3 + D
                     + (Int128)seqLen * headSize + (SharedClassifier ? 0 : V * D);
        var expected = HeaderBytes + floats * 4;
        if (expected != _file.Length)
            throw new InvalidDataException(
                $"{Path}: llama2.c checkpoint: {Header()} implies {expected} bytes but the file has {_file.Length}; the file is truncated, padded, a different format, or corrupt");

        Config = new LlamaConfig
        {
            VocabSize = vocab, HiddenSize = dim, IntermediateSize = hidden, NumLayers = layers,
            NumHeads = heads, NumKvHeads = kvHeads, RmsNormEps = 1e-5f, RopeTheta = 10000f,
            MaxPositionEmbeddings = seqLen, TieWordEmbeddings = SharedClassifier,
            Name = System.IO.Path.GetFileNameWithoutExtension(Path),
        }.Validate(Path);

        // Offsets in file order; tensors are then listed in canonical order.
        long offset = HeaderBytes;
        void Arrays(Func<int, string> name, long elements, int count)
        {
            for (var l = 0; l < count; l++)
            {
                _offsets[name(l)] = offset;
                offset += elements * 4;
            }
        }
        Arrays(_ => LlamaTensorNames.Embedding, (long)vocab * dim, 1);
        Arrays(LlamaTensorNames.AttnNorm, dim, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.QProj), (long)dim * dim, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.KProj), kvDim * dim, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.VProj), kvDim * dim, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.OProj), (long)dim * dim, layers);
        Arrays(LlamaTensorNames.FfnNorm, dim, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.GateProj), (long)hidden * dim, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.DownProj), (long)dim * hidden, layers);
        Arrays(l => LlamaTensorNames.Linear(l, LinearKind.UpProj), (long)hidden * dim, layers);
        Arrays(_ => LlamaTensorNames.FinalNorm, dim, 1);
        offset += (long)seqLen * headSize * 4; // freq_cis_real + freq_cis_imag, each seq_len × head/2
        if (SharedClassifier) _offsets[LlamaTensorNames.Output] = _offsets[LlamaTensorNames.Embedding];
        else Arrays(_ => LlamaTensorNames.Output, (long)vocab * dim, 1);
        if (offset != _file.Length) throw new InvalidOperationException($"{Path}: layout arithmetic mismatch ({offset} vs {_file.Length})");
        foreach (var (name, shape) in LlamaWeightShapes.Expected(Config))
            Register(new WeightInfo(name, TensorDType.F32, shape));
    }

    protected override float[] ReadCore(WeightInfo info)
    {
        var result = new float[info.ElementCount];
        TensorConversion.ToFloat32(TensorDType.F32, _file.Span(_offsets[info.Name], info.ElementCount * 4), result);
        return result;
    }

    public override void Dispose()
    {
        _file.Dispose();
        base.Dispose();
    }
}
