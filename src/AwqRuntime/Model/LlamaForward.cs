using AwqRuntime.Backends;

namespace AwqRuntime.Model;

/// <summary>
/// The pieces of a LLaMA-family block as functions of explicit weights, so the runtime, calibration
/// and the AWQ search (which evaluates candidate weights on cached inputs) all share one implementation:
///   x += o_proj(attention(rope(q_proj(h) + b_q), rope(k_proj(h) + b_k), v_proj(h) + b_v))   with h = rmsnorm(x)
///   x += down_proj(silu(gate_proj(h)) * up_proj(h))                                        with h = rmsnorm(x)
/// Biases are the block's (<see cref="LlamaBlock.Bias"/>; Qwen2's q/k/v), RoPE carries the config's
/// frequency factors (Llama 3.1) and attention its sliding window (Mistral). Every operation goes
/// through the buffers' backend (<see cref="IComputeBackend"/>): this file does no arithmetic itself.
/// Shapes: activations are [rows, features] row-major; the KV cache is [capacity, n_kv, head_dim].
/// </summary>
public static class LlamaForward
{
    /// <summary>
    /// Self-attention of <paramref name="rows"/> new tokens of one sequence at positions nPast.. (their
    /// keys and values are written into layer <paramref name="cacheLayer"/> of the cache at those rows),
    /// result [rows, hidden] into <paramref name="output"/>. <paramref name="q"/> … <paramref name="o"/>
    /// stand in for the block's linears; its biases apply.
    /// </summary>
    public static void Attention(LlamaConfig c, LlamaBlock block, ILinear q, ILinear k, ILinear v, ILinear o,
        TensorView h, int rows, int nPast, KvCache cache, int cacheLayer, ForwardBuffers s, TensorView output,
        IActivationObserver? observer = null, int layer = -1) =>
        Attention(c, block, q, k, v, o, h, [new SequenceRows(cache, nPast, rows)], cacheLayer, s, output, observer, layer);

    /// <summary>
    /// Self-attention of several sequences' new rows at once (continuous batching): the rows of
    /// <paramref name="sequences"/> lie one after another in <paramref name="h"/>; the linears run once
    /// over all of them, RoPE at each row's own position, attention per sequence over its own cache.
    /// </summary>
    public static void Attention(LlamaConfig c, LlamaBlock block, ILinear q, ILinear k, ILinear v, ILinear o,
        TensorView h, ReadOnlySpan<SequenceRows> sequences, int cacheLayer, ForwardBuffers s, TensorView output,
        IActivationObserver? observer = null, int layer = -1)
    {
        var rows = 0;
        foreach (var seq in sequences)
        {
            if ((long)seq.NPast + seq.Rows > seq.Cache.Capacity)
                throw new InvalidOperationException($"context full: {seq.NPast} + {seq.Rows} tokens exceed the KV cache of {seq.Cache.Capacity}");
            seq.Cache.Reserve(seq.NPast + seq.Rows);
            rows += seq.Rows;
        }
        var b = s.Backend;
        var hd = c.EffectiveHeadDim;
        var kv = c.KvDim;
        var qd = c.QDim;
        var hs = h.Slice(0, (long)rows * c.HiddenSize);
        observer?.OnLinearInput(layer, LinearKind.QProj, b.Read(hs), rows, c.HiddenSize);
        var qs = s.Q.View(0, (long)rows * qd);
        var ks = s.K.View(0, (long)rows * kv);
        var vs = s.V.View(0, (long)rows * kv);
        b.Linear(q, hs, rows, qs, block.Bias(LinearKind.QProj));
        b.Linear(k, hs, rows, ks, block.Bias(LinearKind.KProj));
        b.Linear(v, hs, rows, vs, block.Bias(LinearKind.VProj));
        var pos = s.Positions.AsSpan(0, rows);
        var r0 = 0;
        foreach (var seq in sequences)
        {
            for (var i = 0; i < seq.Rows; i++) pos[r0 + i] = seq.NPast + i;
            r0 += seq.Rows;
        }
        b.Rope(qs, rows, c.NumHeads, hd, c.EffectiveRopeDim, pos, c.RopeTheta, s.RopeFreqFactors);
        b.Rope(ks, rows, c.NumKvHeads, hd, c.EffectiveRopeDim, pos, c.RopeTheta, s.RopeFreqFactors);
        var att = s.Att.View(0, (long)rows * qd);
        r0 = 0;
        foreach (var seq in sequences)
        {
            b.Copy(ks.Slice((long)r0 * kv, (long)seq.Rows * kv), seq.Cache.Keys(cacheLayer).Slice((long)seq.NPast * kv, (long)seq.Rows * kv));
            b.Copy(vs.Slice((long)r0 * kv, (long)seq.Rows * kv), seq.Cache.Values(cacheLayer).Slice((long)seq.NPast * kv, (long)seq.Rows * kv));
            b.Attention(qs.Slice((long)r0 * qd, (long)seq.Rows * qd), seq.Cache, cacheLayer, seq.Rows, seq.NPast, c.NumHeads, c.NumKvHeads, hd,
                c.SlidingWindow, att.Slice((long)r0 * qd, (long)seq.Rows * qd));
            r0 += seq.Rows;
        }
        observer?.OnLinearInput(layer, LinearKind.OProj, b.Read(att), rows, qd);
        b.Linear(o, att, rows, output.Slice(0, (long)rows * c.HiddenSize), block.Bias(LinearKind.OProj));
    }

    /// <summary>SwiGLU MLP: down(silu(gate(h)) * up(h)), result [rows, hidden]; the block's MLP biases apply.</summary>
    public static void Mlp(LlamaConfig c, LlamaBlock block, ILinear gate, ILinear up, ILinear down, TensorView h, int rows,
        ForwardBuffers s, TensorView output, IActivationObserver? observer = null, int layer = -1)
    {
        var b = s.Backend;
        var n = (long)rows * c.IntermediateSize;
        var hs = h.Slice(0, (long)rows * c.HiddenSize);
        observer?.OnLinearInput(layer, LinearKind.GateProj, b.Read(hs), rows, c.HiddenSize);
        var g = s.Gate.View(0, n);
        var u = s.Up.View(0, n);
        b.Linear(gate, hs, rows, g, block.Bias(LinearKind.GateProj));
        b.Linear(up, hs, rows, u, block.Bias(LinearKind.UpProj));
        b.SiluMul(g, u, g);
        observer?.OnLinearInput(layer, LinearKind.DownProj, b.Read(g), rows, c.IntermediateSize);
        b.Linear(down, g, rows, output.Slice(0, (long)rows * c.HiddenSize), block.Bias(LinearKind.DownProj));
    }

    /// <summary>One whole block of one sequence, in place on x [rows, hidden].</summary>
    public static void Block(LlamaConfig c, LlamaBlock blk, TensorView x, int rows, int nPast, KvCache cache, int cacheLayer,
        ForwardBuffers s, IActivationObserver? observer = null, int layer = -1) =>
        Block(c, blk, x, [new SequenceRows(cache, nPast, rows)], cacheLayer, s, observer, layer);

    /// <summary>One whole block over the rows of several sequences, in place on x [Σ rows, hidden].</summary>
    public static void Block(LlamaConfig c, LlamaBlock blk, TensorView x, ReadOnlySpan<SequenceRows> sequences, int cacheLayer,
        ForwardBuffers s, IActivationObserver? observer = null, int layer = -1)
    {
        var rows = 0;
        foreach (var seq in sequences) rows += seq.Rows;
        var b = s.Backend;
        var d = c.HiddenSize;
        var n = (long)rows * d;
        var xs = x.Slice(0, n);
        var h = s.H.View(0, n);
        var o = s.Out.View(0, n);
        b.RmsNorm(xs, blk.AttnNorm, rows, d, c.RmsNormEps, h);
        Attention(c, blk, blk.Q, blk.K, blk.V, blk.O, h, sequences, cacheLayer, s, o, observer, layer);
        b.AddRmsNorm(xs, o, blk.FfnNorm, rows, d, c.RmsNormEps, h);   // x += attention; h = rmsnorm(x)
        Mlp(c, blk, blk.Gate, blk.Up, blk.Down, h, rows, s, o, observer, layer);
        b.AddInPlace(xs, o);
    }
}

/// <summary>
/// A sequence's share of a batched forward pass: <paramref name="Rows"/> new tokens at positions
/// <paramref name="NPast"/>.. of its own KV cache.
/// </summary>
public readonly record struct SequenceRows(KvCache Cache, int NPast, int Rows);
