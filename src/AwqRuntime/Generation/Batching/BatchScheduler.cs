using System.Collections.Concurrent;
using System.Diagnostics;
using AwqRuntime.Model;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation.Batching;

/// <summary>
/// Continuous batching over one model: <see cref="BatchSchedulerOptions.Parallel"/> slots, each with
/// its own KV cache; every step decodes all active sequences in one forward pass
/// (<see cref="LlamaModel.ForwardBatch"/>: the weights are read once for all of them, which is where a
/// memory-bound decoder's throughput comes from). Between steps, queued requests take free slots
/// (their prompt is prefilled, then they join the batch) and finished or cancelled ones leave. Each
/// sequence samples with its own <see cref="SequenceDecoder"/>, so its output is what it would be alone.
/// One background thread runs the model; <see cref="Submit"/> is thread-safe.
/// </summary>
public sealed class BatchScheduler : IDisposable
{
    private readonly LlamaModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly BatchSchedulerOptions _options;
    private readonly Slot[] _slots;
    private readonly ForwardBuffers _buffers;
    private readonly float[] _logits;
    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _thread;
    private int _queued;
    private int _inFlight; // submitted and not yet finished: what the queue limit counts
    private int _active;
    private volatile bool _stopping;

    public BatchScheduler(LlamaModel model, ITokenizer tokenizer, BatchSchedulerOptions options)
    {
        _model = model;
        _tokenizer = tokenizer;
        _options = options.Validate();
        ContextSize = options.ContextSize > 0 ? options.ContextSize : model.Config.MaxPositionEmbeddings;
        _slots = new Slot[options.Parallel];
        for (var i = 0; i < _slots.Length; i++) _slots[i] = new Slot(model.CreateCache(ContextSize, options.ContextSize > 0 ? "--ctx" : null));
        _buffers = model.CreateBuffers(Math.Max(options.Parallel, Math.Min(options.PrefillBatch, ContextSize)));
        _logits = new float[(long)options.Parallel * model.Config.VocabSize];
        _thread = new Thread(Loop) { IsBackground = true, Name = "awq-batch-scheduler" };
        _thread.Start();
    }

    public int Parallel => _slots.Length;

    /// <summary>Tokens per slot: a prompt plus its completion must fit.</summary>
    public int ContextSize { get; }

    /// <summary>Sequences decoding now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Requests waiting for a slot.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Requests submitted and not yet finished (queued or decoding): what the queue limit counts; 0 when idle.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>
    /// Queues a generation. Throws <see cref="ArgumentException"/> for a prompt that does not fit a slot
    /// and <see cref="QueueFullException"/> when every slot is busy and the queue is full. Cancelling
    /// <paramref name="cancel"/> frees the slot at the next step (the stream then ends with
    /// <see cref="StopReason.Cancelled"/>).
    /// </summary>
    public GenerationStream Submit(int[] prompt, GenerationOptions options, CancellationToken cancel = default)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (prompt.Length == 0) throw new ArgumentException("the prompt is empty (no BOS and no text)");
        if (prompt.Length >= ContextSize)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens; a slot holds {ContextSize} (prompt and completion together)");
        if (options.MaxTokens < 0) throw new ArgumentException($"max tokens must be ≥ 0 (got {options.MaxTokens})");
        foreach (var t in prompt)
            if ((uint)t >= (uint)_model.Config.VocabSize) throw new ArgumentException($"token id {t} is outside the vocabulary of {_model.Config.VocabSize}");
        options.Sampling.Validate();
        if (Interlocked.Increment(ref _inFlight) > Parallel + _options.MaxQueue)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new QueueFullException(Queued);
        }
        Interlocked.Increment(ref _queued);
        var stream = new GenerationStream(prompt.Length);
        _queue.Enqueue(new Pending((int[])prompt.Clone(), options, cancel, stream));
        // One pending wake-up is enough (the loop drains the queue before it waits again); releasing on
        // every submit would let the count climb under steady load until Release throws at int.MaxValue.
        if (_wake.CurrentCount == 0) _wake.Release();
        return stream;
    }

    private void Loop()
    {
        var tokens = new int[_slots.Length];
        var caches = new List<KvCache>(_slots.Length);
        var running = new List<Slot>(_slots.Length);
        while (true)
        {
            if (_stopping)
            {
                foreach (var slot in _slots)
                    if (slot.Request != null) Fail(slot, new ObjectDisposedException(nameof(BatchScheduler)));
                break;
            }
            foreach (var slot in _slots)
            {
                if (slot.Request != null) continue;
                if (!_queue.TryDequeue(out var p)) break;
                Interlocked.Decrement(ref _queued);
                Admit(slot, p);
            }
            running.Clear();
            foreach (var slot in _slots)
            {
                if (slot.Request == null) continue;
                if (slot.Request.Cancel.IsCancellationRequested) Finish(slot, StopReason.Cancelled);
                else running.Add(slot);
            }
            Volatile.Write(ref _active, running.Count);
            if (running.Count == 0)
            {
                if (_queue.IsEmpty && !_stopping) _wake.Wait();
                continue;
            }
            caches.Clear();
            for (var i = 0; i < running.Count; i++)
            {
                tokens[i] = running[i].Sequence!.LastToken;
                caches.Add(running[i].Cache);
            }
            try
            {
                _model.ForwardBatch(tokens.AsSpan(0, running.Count), caches, _buffers, _logits);
            }
            catch (Exception e)
            {
                foreach (var slot in running) Fail(slot, e);
                continue;
            }
            var v = _model.Config.VocabSize;
            for (var i = 0; i < running.Count; i++) Emit(running[i], _logits.AsSpan(i * v, v));
        }
        // Stopped: whatever still waits will never run.
        while (_queue.TryDequeue(out var left)) left.Stream.Fail(new ObjectDisposedException(nameof(BatchScheduler)));
    }

    private void Admit(Slot slot, Pending p)
    {
        slot.Request = p;
        slot.Sequence = new SequenceDecoder(_tokenizer, p.Prompt, p.Options);
        slot.Cache.Clear();
        slot.Clock.Restart();
        if (p.Cancel.IsCancellationRequested)
        {
            Finish(slot, StopReason.Cancelled);
            return;
        }
        try
        {
            var v = _model.Config.VocabSize;
            _model.Forward(p.Prompt, slot.Cache, _buffers, _logits.AsSpan(0, v), LogitsMode.Last);
            slot.PrefillSeconds = slot.Clock.Elapsed.TotalSeconds;
            slot.Clock.Restart();
            if (slot.Sequence.Finished) Finish(slot, slot.Sequence.StopReason); // max_tokens 0
            else Emit(slot, _logits.AsSpan(0, v));
        }
        catch (Exception e)
        {
            Fail(slot, e);
        }
    }

    private void Emit(Slot slot, ReadOnlySpan<float> logits)
    {
        var seq = slot.Sequence!;
        try
        {
            if (seq.Accept(logits) is { } chunk) slot.Request!.Stream.Write(chunk);
        }
        catch (Exception e)
        {
            Fail(slot, e);
            return;
        }
        if (seq.Finished) Finish(slot, seq.StopReason);
        else if (slot.Cache.Length >= slot.Cache.Capacity) Finish(slot, StopReason.ContextFull);
    }

    private void Finish(Slot slot, StopReason reason)
    {
        var seq = slot.Sequence!;
        seq.Finish(reason);
        var p = slot.Request!;
        var rest = seq.Flush();
        if (rest.Length > 0 && reason != StopReason.Cancelled) p.Stream.Write(new GenerationChunk(rest, -1));
        p.Stream.Complete(new GenerationStats(p.Prompt.Length, seq.Generated, slot.PrefillSeconds, slot.Clock.Elapsed.TotalSeconds, seq.StopReason));
        slot.Clear();
        Interlocked.Decrement(ref _inFlight);
    }

    private void Fail(Slot slot, Exception e)
    {
        if (slot.Request == null) return;
        slot.Request.Stream.Fail(e);
        slot.Clear();
        Interlocked.Decrement(ref _inFlight);
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Release();
        _thread.Join();
        foreach (var slot in _slots) slot.Cache.Dispose();
        _buffers.Dispose();
        _wake.Dispose();
    }

    private sealed record Pending(int[] Prompt, GenerationOptions Options, CancellationToken Cancel, GenerationStream Stream);

    private sealed class Slot(KvCache cache)
    {
        public KvCache Cache { get; } = cache;
        public Pending? Request { get; set; }
        public SequenceDecoder? Sequence { get; set; }
        public Stopwatch Clock { get; } = new();
        public double PrefillSeconds { get; set; }

        public void Clear()
        {
            Request = null;
            Sequence = null;
        }
    }
}
