using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using AwqRuntime.Model;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation;

/// <summary>
/// Prompt in, text out: batched prefill of the prompt, then one decode step per token, streaming
/// complete UTF-8 text as it comes (byte-fallback pieces are joined across tokens) and holding back
/// anything that may become a stop string. One generator owns one KV cache: not thread-safe.
/// </summary>
public sealed class TextGenerator
{
    private readonly LlamaModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly KvCache _cache;
    private readonly ForwardBuffers _buffers;
    private readonly float[] _logits;

    public TextGenerator(LlamaModel model, ITokenizer tokenizer, int contextSize = 0, int prefillBatch = 512)
    {
        _model = model;
        _tokenizer = tokenizer;
        var ctx = contextSize > 0 ? contextSize : model.Config.MaxPositionEmbeddings;
        _cache = model.CreateCache(ctx, contextSize > 0 ? "--ctx" : null);
        _buffers = model.CreateBuffers(Math.Min(prefillBatch, ctx));
        _logits = new float[model.Config.VocabSize];
    }

    public int ContextSize => _cache.Capacity;

    /// <summary>The statistics of the last finished generation.</summary>
    public GenerationStats? LastStats { get; private set; }

    public int[] EncodePrompt(string prompt, GenerationOptions options) =>
        _tokenizer.Encode(prompt, options.AddBos ?? _tokenizer.Spec.AddBos);

    public GenerationResult Generate(string prompt, GenerationOptions options) => Generate(EncodePrompt(prompt, options), options);

    public GenerationResult Generate(int[] prompt, GenerationOptions options)
    {
        var text = new StringBuilder();
        var tokens = new List<int>();
        foreach (var chunk in Stream(prompt, options, CancellationToken.None))
        {
            text.Append(chunk.Text);
            if (chunk.TokenId >= 0) tokens.Add(chunk.TokenId);
        }
        return new GenerationResult(text.ToString(), tokens, LastStats!);
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(string prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancel = default)
    {
        // The model runs synchronously on the native thread pool; yield between tokens so callers
        // (a server, a chat loop) stay responsive and cancellation is seen promptly.
        foreach (var chunk in Stream(EncodePrompt(prompt, options), options, cancel))
        {
            yield return chunk;
            await Task.Yield();
        }
    }

    /// <summary>
    /// The generation loop; yields a chunk per generated token, then a final flush chunk (id −1) when
    /// text was held back. The arguments are checked here, when called, not at the first MoveNext.
    /// </summary>
    public IEnumerable<GenerationChunk> Stream(int[] prompt, GenerationOptions options, CancellationToken cancel)
    {
        if (prompt.Length == 0) throw new ArgumentException("the prompt is empty (no BOS and no text)");
        if (prompt.Length >= _cache.Capacity)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens; the context holds {_cache.Capacity} (use a shorter prompt or a larger --ctx)");
        if (options.MaxTokens < 0) throw new ArgumentException($"max tokens must be ≥ 0 (got {options.MaxTokens})");
        // Room for the whole run up front (capped by the context): a cache that cannot fit fails here, before any output.
        _cache.Clear();
        _cache.Reserve((int)Math.Min(_cache.Capacity, (long)prompt.Length + options.MaxTokens));
        return StreamChecked(prompt, options, cancel);
    }

    private IEnumerable<GenerationChunk> StreamChecked(int[] prompt, GenerationOptions options, CancellationToken cancel)
    {
        var seq = new SequenceDecoder(_tokenizer, prompt, options);
        _cache.Clear();
        var clock = Stopwatch.StartNew();
        _model.Forward(prompt, _cache, _buffers, _logits, LogitsMode.Last);
        var prefill = clock.Elapsed.TotalSeconds;
        clock.Restart();
        while (!seq.Finished)
        {
            cancel.ThrowIfCancellationRequested();
            if (seq.Accept(_logits) is { } chunk) yield return chunk;
            if (seq.Finished) break;
            if (_cache.Length >= _cache.Capacity)
            {
                seq.Finish(StopReason.ContextFull);
                break;
            }
            _model.Forward([seq.LastToken], _cache, _buffers, _logits, LogitsMode.Last);
        }
        var decode = clock.Elapsed.TotalSeconds;
        LastStats = new GenerationStats(prompt.Length, seq.Generated, prefill, decode, seq.StopReason);
        var rest = seq.Flush();
        if (rest.Length > 0) yield return new GenerationChunk(rest, -1);
    }
}
