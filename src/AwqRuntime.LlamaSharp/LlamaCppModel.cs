using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// A GGUF model loaded by llama.cpp (through LLamaSharp) with one context, used as the reference
/// runtime: the same token ids in, llama.cpp's logits, tokens and timings out. Not thread-safe: one
/// caller at a time (the context and its KV cache are shared by every call).
/// </summary>
public sealed partial class LlamaCppModel : IDisposable
{
    private static ReadOnlySpan<byte> GgufMagic => "GGUF"u8;

    private readonly LLamaWeights _weights;
    private readonly LLamaContext _context;
    private readonly LLamaBatch _batch = new();
    private readonly IntPtr _vocab; // const llama_vocab*, owned by the model
    private bool _disposed;

    private LlamaCppModel(string path, LlamaCppOptions options, LLamaWeights weights, LLamaContext context)
    {
        Path = path;
        Options = options;
        _weights = weights;
        _context = context;
        var model = weights.NativeHandle;
        _vocab = LlamaCppNativeMethods.llama_model_get_vocab(model.DangerousGetHandle());
        var vocab = weights.Vocab;
        VocabSize = vocab.Count;
        BosToken = vocab.BOS is { } bos ? (int)bos : null;
        EosToken = vocab.EOS is { } eos ? (int)eos : null;
        AddsBos = vocab.ShouldAddBOS;
        ContextLength = model.ContextSize;
        EmbeddingLength = model.EmbeddingSize;
        LayerCount = model.LayerCount;
        HeadCount = model.HeadCount;
        KvHeadCount = model.KVHeadCount;
        ParameterCount = (long)model.ParameterCount;
        TensorBytes = (long)model.SizeInBytes;
        FileBytes = new FileInfo(path).Length;
        Description = model.Description;
        Metadata = weights.Metadata;
        ContextSize = (int)context.NativeHandle.ContextSize;
        BatchSize = (int)context.NativeHandle.BatchSize;
    }

    /// <summary>Full path of the loaded GGUF file.</summary>
    public string Path { get; }

    public LlamaCppOptions Options { get; }

    /// <summary>Number of tokens in the vocabulary (the length of every logits row).</summary>
    public int VocabSize { get; }

    public int? BosToken { get; }

    public int? EosToken { get; }

    /// <summary>Whether the vocabulary asks for BOS at the start of a sequence (tokenizer.ggml.add_bos_token or the SPM default).</summary>
    public bool AddsBos { get; }

    /// <summary>Training context length from the metadata (n_ctx_train).</summary>
    public int ContextLength { get; }

    /// <summary>Token capacity of this model's llama.cpp context (n_ctx as llama.cpp actually created it).</summary>
    public int ContextSize { get; }

    /// <summary>Most tokens per llama_decode call (n_batch as created).</summary>
    public int BatchSize { get; }

    public int EmbeddingLength { get; }

    public int LayerCount { get; }

    public int HeadCount { get; }

    public int KvHeadCount { get; }

    public long ParameterCount { get; }

    /// <summary>Bytes of all tensors as llama.cpp counts them (llama_model_size).</summary>
    public long TensorBytes { get; }

    /// <summary>Size of the GGUF file on disk.</summary>
    public long FileBytes { get; }

    /// <summary>llama.cpp's one-line description, e.g. "llama 7B Q4_K - Medium".</summary>
    public string Description { get; }

    /// <summary>The GGUF key/value metadata as llama.cpp renders it (arrays are not included).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>
    /// Loads <paramref name="ggufPath"/> with llama.cpp on the CPU and creates its context. Every failure
    /// (missing file, not a GGUF, llama.cpp refusing the file or the context) is a
    /// <see cref="LlamaCppException"/> naming the file and quoting llama.cpp's reason.
    /// </summary>
    public static LlamaCppModel Load(string ggufPath, LlamaCppOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(ggufPath);
        options ??= new LlamaCppOptions();
        options.Validate();
        var path = System.IO.Path.GetFullPath(ggufPath);
        CheckIsGguf(path);
        LlamaCppNative.EnsureLoaded();

        var kvType = options.KvCacheType == KvCacheType.F32 ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16;
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)options.ContextSize,
            BatchSize = (uint)options.ResolvedBatchSize,
            UBatchSize = (uint)options.ResolvedUBatchSize,
            Threads = options.ResolvedThreads,
            BatchThreads = options.ResolvedThreads,
            GpuLayerCount = 0,
            TypeK = kvType,
            TypeV = kvType,
            FlashAttention = options.FlashAttention,
        };

        using var capture = LlamaCppLog.BeginCapture();
        LLamaWeights weights;
        try
        {
            weights = LLamaWeights.LoadFromFile(parameters);
        }
        catch (Exception e) when (e is LoadWeightsFailedException or RuntimeError or InvalidOperationException or ArgumentException)
        {
            throw new LlamaCppException($"llama.cpp could not load '{path}'", path, capture.ErrorsWithContext(), e);
        }

        try
        {
            var context = weights.CreateContext(parameters);
            return new LlamaCppModel(path, options, weights, context);
        }
        catch (Exception e)
        {
            weights.Dispose();
            if (e is LlamaCppException) throw;
            throw new LlamaCppException(
                $"llama.cpp could not create a context (n_ctx {options.ContextSize}, n_batch {options.ResolvedBatchSize}) for '{path}'",
                path, capture.ErrorsWithContext(), e);
        }
    }

    // llama.cpp's own message for a non-GGUF file is a generic "failed to load model"; checking the
    // magic here gives the user the actual reason.
    private static void CheckIsGguf(string path)
    {
        if (!File.Exists(path))
            throw new LlamaCppException($"model file '{path}' does not exist", path, inner: new FileNotFoundException(null, path));
        Span<byte> magic = stackalloc byte[4];
        int read;
        try
        {
            using var stream = File.OpenRead(path);
            read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LlamaCppException($"model file '{path}' cannot be read: {e.Message}", path, inner: e);
        }
        if (read < magic.Length || !magic.SequenceEqual(GgufMagic))
            throw new LlamaCppException($"'{path}' is not a GGUF file (it does not start with the bytes \"GGUF\")", path);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void ValidateTokens(ReadOnlySpan<int> tokens, string paramName)
    {
        for (var i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)VocabSize)
                throw new ArgumentOutOfRangeException(paramName, tokens[i], $"token at index {i} is outside the vocabulary (0..{VocabSize - 1})");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _context.Dispose();
        _weights.Dispose();
    }
}
