using AwqRuntime.Backends;

namespace AwqRuntime.Model;

/// <summary>Which logits a forward pass returns.</summary>
public enum LogitsMode
{
    /// <summary>Only the last token's row (generation).</summary>
    Last,

    /// <summary>Every token's row (perplexity, KL divergence, comparisons).</summary>
    All,
}

/// <summary>
/// A LLaMA decoder in memory: embedding, blocks, final norm and classifier, with linears of any
/// storage format behind <see cref="ILinear"/>. Runs batched prefill and one-token decode over a
/// <see cref="KvCache"/>. Not thread-safe: give each concurrent user its own cache and buffers
/// (the weights are shared read-only).
/// </summary>
public sealed class LlamaModel
{
    public LlamaModel(LlamaConfig config, float[] embedding, LlamaBlock[] blocks, float[] finalNorm, ILinear output)
        : this(config, new TokenEmbedding(embedding, config.VocabSize, config.HiddenSize), blocks, finalNorm, output)
    {
    }

    public LlamaModel(LlamaConfig config, TokenEmbedding embedding, LlamaBlock[] blocks, float[] finalNorm, ILinear output)
    {
        Config = config;
        if (embedding.VocabSize != config.VocabSize || embedding.Dim != config.HiddenSize)
            throw new ArgumentException($"embedding is {embedding.VocabSize}x{embedding.Dim}, expected {config.VocabSize}x{config.HiddenSize}");
        if (blocks.Length != config.NumLayers) throw new ArgumentException($"{blocks.Length} blocks, config says {config.NumLayers}");
        if (finalNorm.Length != config.HiddenSize) throw new ArgumentException("final norm width differs from hidden size");
        if (output.InFeatures != config.HiddenSize || output.OutFeatures != config.VocabSize)
            throw new ArgumentException($"classifier is {output.OutFeatures}x{output.InFeatures}, expected {config.VocabSize}x{config.HiddenSize}");
        Embedding = embedding;
        Blocks = blocks;
        FinalNorm = finalNorm;
        Output = output;
    }

    public LlamaConfig Config { get; }

    /// <summary>The file and field <see cref="LlamaConfig.MaxPositionEmbeddings"/> came from, named when a cache of that size does not fit.</summary>
    public string ContextOrigin { get; init; } = "max_position_embeddings";
    public TokenEmbedding Embedding { get; }
    public LlamaBlock[] Blocks { get; }
    public float[] FinalNorm { get; }
    public ILinear Output { get; }

    /// <summary>True when the classifier reads the embedding matrix itself.</summary>
    public bool TiedOutput => Output switch
    {
        FloatLinear f => ReferenceEquals(f.Weight, Embedding.Float32),
        HalfLinear h => ReferenceEquals(h.Weight, Embedding.Float16),
        _ => false,
    };

    /// <summary>
    /// Loads a full-precision checkpoint as fp32 (the reference runtime). Linears stored in a quantized
    /// block type (a llama.cpp GGUF's Q4_0, Q4_K, …) are not widened to fp32: those that map exactly
    /// onto group-wise INT4 (<see cref="IWeightSource.ReadInt4"/>) run on the INT4 kernels, the others
    /// are held in fp16 (<see cref="RuntimeLinear"/>).
    /// </summary>
    public static LlamaModel FromWeights(IWeightSource src)
    {
        var c = src.Config;
        var blocks = new LlamaBlock[c.NumLayers];
        for (var l = 0; l < c.NumLayers; l++) blocks[l] = LoadBlock(src, l, RuntimeLinear);
        var embedding = ReadVector(src, LlamaTensorNames.Embedding, (long)c.VocabSize * c.HiddenSize);
        var output = src.Contains(LlamaTensorNames.Output) && !c.TieWordEmbeddings
            ? RuntimeLinear(src, LlamaTensorNames.Output, c.VocabSize, c.HiddenSize)
            : new FloatLinear(embedding, c.VocabSize, c.HiddenSize);
        return new LlamaModel(c, embedding, blocks, ReadVector(src, LlamaTensorNames.FinalNorm, c.HiddenSize), output) { ContextOrigin = src.ContextOrigin };
    }

    /// <summary>One block's weights (and the family's biases) as fp32 (the quantizer streams blocks through this).</summary>
    public static LlamaBlock LoadBlock(IWeightSource src, int l) => LoadBlock(src, l, ReadLinear);

    private static LlamaBlock LoadBlock(IWeightSource src, int l, Func<IWeightSource, string, int, int, ILinear> read)
    {
        var c = src.Config;
        ILinear Lin(LinearKind kind)
        {
            var shape = kind.Shape(c);
            return read(src, LlamaTensorNames.Linear(l, kind), (int)shape[0], (int)shape[1]);
        }
        return new LlamaBlock(
            ReadVector(src, LlamaTensorNames.AttnNorm(l), c.HiddenSize), ReadVector(src, LlamaTensorNames.FfnNorm(l), c.HiddenSize),
            Lin(LinearKind.QProj), Lin(LinearKind.KProj), Lin(LinearKind.VProj), Lin(LinearKind.OProj),
            Lin(LinearKind.GateProj), Lin(LinearKind.UpProj), Lin(LinearKind.DownProj), ReadBiases(src, l));
    }

    /// <summary>The block's biases as fp32, for the kinds the family has them.</summary>
    public static Dictionary<LinearKind, float[]> ReadBiases(IWeightSource src, int l)
    {
        var c = src.Config;
        var biases = new Dictionary<LinearKind, float[]>();
        foreach (var kind in LinearKinds.All)
            if (c.Family.HasBias(kind)) biases[kind] = ReadVector(src, LlamaTensorNames.Bias(l, kind), kind.Shape(c)[0]);
        return biases;
    }

    internal static FloatLinear ReadLinear(IWeightSource src, string name, int outF, int inF) =>
        new(ReadVector(src, name, (long)outF * inF), outF, inF);

    /// <summary>
    /// A linear for the runtime: INT4 when the stored blocks map onto it exactly (GGUF Q4_0), fp16 when
    /// they are another quantized block type (Q4_K, Q6_K, Q8_0, …: decoded per block, then rounded to fp16,
    /// a relative change of at most 2⁻¹¹), fp32 when stored as floats.
    /// </summary>
    internal static ILinear RuntimeLinear(IWeightSource src, string name, int outF, int inF)
    {
        if (src.ReadInt4(name) is { } q)
        {
            if (q.OutFeatures != outF || q.InFeatures != inF)
                throw new InvalidDataException($"{src.Path}: tensor '{name}' is {q.OutFeatures}x{q.InFeatures}, expected {outF}x{inF}");
            return new Int4Linear(q);
        }
        var full = ReadLinear(src, name, outF, inF);
        return Formats.TensorDTypeInfo.IsBlockQuantized(src.Info(name).DType) ? HalfLinear.From(full, $"{src.Path}: {name}") : full;
    }

    internal static float[] ReadVector(IWeightSource src, string name, long n)
    {
        var w = src.ReadFloat32(name);
        if (w.Length != n) throw new InvalidDataException($"{src.Path}: tensor '{name}' has {w.Length} values, expected {n}");
        return w;
    }

    /// <summary>
    /// The same model with another classifier (e.g. <see cref="Int8Linear"/> at run time to halve the bytes
    /// read per token); every other weight is shared, not copied.
    /// </summary>
    public LlamaModel WithClassifier(ILinear output) => new(Config with { TieWordEmbeddings = false }, Embedding, Blocks, FinalNorm, output) { Backend = Backend, ContextOrigin = ContextOrigin };

    /// <summary>
    /// The same model with every INT4 linear (classifier included) on <paramref name="kernel"/>; the
    /// packed weights, norms and embedding are shared, not copied.
    /// </summary>
    public LlamaModel WithInt4Kernel(Int4Kernel kernel)
    {
        ILinear Map(ILinear l) => l is Int4Linear q ? q.WithKernel(kernel) : l;
        return new(Config, Embedding, Blocks.Select(b => b.MapLinears(Map)).ToArray(), FinalNorm, Map(Output)) { Backend = Backend, ContextOrigin = ContextOrigin };
    }

    /// <summary>
    /// The same model run by <paramref name="backend"/> (a <see cref="DeviceBackend"/> keeps its own
    /// copies of the weights, uploaded on first use); the host weights are shared, not copied.
    /// </summary>
    public LlamaModel WithBackend(IComputeBackend backend) =>
        new(Config, Embedding, Blocks, FinalNorm, Output) { Backend = backend, ContextOrigin = ContextOrigin };

    /// <summary>The backend the model runs on (<see cref="CpuBackend"/>: the native CPU kernels).</summary>
    public IComputeBackend Backend { get; init; } = CpuBackend.Instance;

    /// <summary>A cache for <paramref name="capacity"/> positions; <paramref name="origin"/> names where that number came from (default: the model's context field).</summary>
    public KvCache CreateCache(int capacity, string? origin = null) =>
        new(Backend, Config.NumLayers, Config.KvDim, capacity, origin ?? (capacity == Config.MaxPositionEmbeddings ? ContextOrigin : null));

    public ForwardBuffers CreateBuffers(int maxRows = 512) => new(Backend, Config, maxRows);

    /// <summary>Bytes of all weights as held in memory.</summary>
    public long WeightBytes => Blocks.Sum(b => b.WeightBytes) + Embedding.Bytes
        + FinalNorm.Length * sizeof(float) + (TiedOutput ? 0 : Output.WeightBytes);

    /// <summary>
    /// Appends <paramref name="tokens"/> to the cache (in chunks of the buffers' row count) and writes
    /// logits: [tokens.Length, vocab] for <see cref="LogitsMode.All"/>, [vocab] for Last.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, KvCache cache, ForwardBuffers buffers, Span<float> logits, LogitsMode mode,
        IActivationObserver? observer = null)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to run");
        var v = Config.VocabSize;
        var need = mode == LogitsMode.All ? (long)tokens.Length * v : v;
        if (logits.Length < need) throw new ArgumentException($"logits buffer holds {logits.Length} values, needs {need}");
        if ((long)cache.Length + tokens.Length > cache.Capacity)
            throw new InvalidOperationException(
                $"context full: {cache.Length} cached + {tokens.Length} new tokens exceed the context of {cache.Capacity}");
        cache.Reserve(cache.Length + tokens.Length);
        foreach (var t in tokens)
            if ((uint)t >= (uint)v) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {t} is outside the vocabulary of {v}");

        for (var start = 0; start < tokens.Length; start += buffers.MaxRows)
        {
            var rows = Math.Min(buffers.MaxRows, tokens.Length - start);
            var chunk = tokens.Slice(start, rows);
            var last = start + rows == tokens.Length;
            if (mode == LogitsMode.All) RunChunk(chunk, cache, buffers, logits.Slice(start * v, rows * v), allRows: true, observer);
            else if (last) RunChunk(chunk, cache, buffers, logits[..v], allRows: false, observer);
            else RunChunk(chunk, cache, buffers, [], allRows: false, observer, skipLogits: true);
        }
    }

    /// <summary>
    /// One decode step of several sequences at once (continuous batching): token i is appended to
    /// caches[i]; one pass through the blocks with a row per sequence, so the weights are read once for
    /// all of them; logits [tokens.Length, vocab]. Each sequence's result is that of its own
    /// <see cref="Forward"/> (the row-wise kernels do not mix rows).
    /// </summary>
    public void ForwardBatch(ReadOnlySpan<int> tokens, IReadOnlyList<KvCache> caches, ForwardBuffers buffers, Span<float> logits)
    {
        var n = tokens.Length;
        if (n == 0) throw new ArgumentException("no sequences to run");
        if (caches.Count != n) throw new ArgumentException($"{n} tokens for {caches.Count} caches");
        if (n > buffers.MaxRows) throw new ArgumentException($"{n} sequences exceed the buffers' {buffers.MaxRows} rows");
        var c = Config;
        var v = c.VocabSize;
        if (logits.Length < (long)n * v) throw new ArgumentException($"logits buffer holds {logits.Length} values, needs {(long)n * v}");
        var b = buffers.Backend;
        var seqs = new SequenceRows[n];
        for (var i = 0; i < n; i++)
        {
            var cache = caches[i];
            if ((uint)tokens[i] >= (uint)v) throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {tokens[i]} is outside the vocabulary of {v}");
            if (!ReferenceEquals(cache.Backend, b)) throw new ArgumentException($"cache {i} lives on {cache.Backend.Name}, the buffers on {b.Name}");
            if (cache.Length + 1 > cache.Capacity)
                throw new InvalidOperationException($"context full: sequence {i} holds {cache.Length} of {cache.Capacity} tokens");
            cache.Reserve(cache.Length + 1);
            for (var j = 0; j < i; j++)
                if (ReferenceEquals(caches[j], cache)) throw new ArgumentException($"sequences {j} and {i} share one KV cache");
            seqs[i] = new SequenceRows(cache, cache.Length, 1);
        }
        var d = c.HiddenSize;
        var x = buffers.X.View(0, (long)n * d);
        b.Embed(Embedding, tokens, x);
        for (var l = 0; l < c.NumLayers; l++) LlamaForward.Block(c, Blocks[l], x, seqs, l, buffers, null, l);
        foreach (var cache in caches) cache.Length++;
        var h = buffers.H.View(0, (long)n * d);
        b.RmsNorm(x, FinalNorm, n, d, c.RmsNormEps, h);
        b.Linear(Output, h, n, logits[..(n * v)]);
    }

    private void RunChunk(ReadOnlySpan<int> tokens, KvCache cache, ForwardBuffers s, Span<float> logits, bool allRows,
        IActivationObserver? observer, bool skipLogits = false)
    {
        var c = Config;
        var b = s.Backend;
        if (!ReferenceEquals(b, cache.Backend)) throw new ArgumentException($"the buffers run on {b.Name} but the cache lives on {cache.Backend.Name}");
        var d = c.HiddenSize;
        var rows = tokens.Length;
        var x = s.X.View(0, (long)rows * d);
        b.Embed(Embedding, tokens, x);
        var nPast = cache.Length;
        for (var l = 0; l < c.NumLayers; l++)
            LlamaForward.Block(c, Blocks[l], x, rows, nPast, cache, l, s, observer, l);
        cache.Length = nPast + rows;
        if (skipLogits) return;
        if (allRows)
        {
            var h = s.H.View(0, (long)rows * d);
            b.RmsNorm(x, FinalNorm, rows, d, c.RmsNormEps, h);
            b.Linear(Output, h, rows, logits);
        }
        else
        {
            var h = s.H.View(0, d);
            b.RmsNorm(x.Slice((long)(rows - 1) * d, d), FinalNorm, 1, d, c.RmsNormEps, h);
            b.Linear(Output, h, 1, logits);
        }
    }
}
