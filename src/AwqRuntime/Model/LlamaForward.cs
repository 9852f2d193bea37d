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
    /// Self-attention of <paramref name="rows"/> new tokens at positions nPast.. (their keys and values
    /// are written into layer <paramref name="cacheLayer"/> of the cache at those rows), result
    /// [rows, hidden] into <paramref name="output"/>. <paramref name="q"/> … <paramref name="o"/> stand
    /// in for the block's linears; its biases apply.
    /// </summary>
    public static void Attention(LlamaConfig c, LlamaBlock block, ILinear q, ILinear k, ILinear v, ILinear o,
        TensorView h, int rows, int nPast, KvCache cache, int cacheLayer, ForwardBuffers s, TensorView output,
        IActivationObserver? observer = null, int layer = -1)
    {
        if (nPast + rows > cache.Capacity)
            throw new InvalidOperationException($"context full: {nPast} + {rows} tokens exceed the KV cache of {cache.Capacity}");
        var b = s.Backend;
        var hd = c.EffectiveHeadDim;
        var kv = c.KvDim;
        var hs = h.Slice(0, (long)rows * c.HiddenSize);
        observer?.OnLinearInput(layer, LinearKind.QProj, b.Read(hs), rows, c.HiddenSize);
        var qs = s.Q.View(0, (long)rows * c.QDim);
        var ks = s.K.View(0, (long)rows * kv);
        var vs = s.V.View(0, (long)rows * kv);
        b.Linear(q, hs, rows, qs, block.Bias(LinearKind.QProj));
        b.Linear(k, hs, rows, ks, block.Bias(LinearKind.KProj));
        b.Linear(v, hs, rows, vs, block.Bias(LinearKind.VProj));
        var pos = s.Positions.AsSpan(0, rows);
        for (var i = 0; i < rows; i++) pos[i] = nPast + i;
        b.Rope(qs, rows, c.NumHeads, hd, c.EffectiveRopeDim, pos, c.RopeTheta, s.RopeFreqFactors);
        b.Rope(ks, rows, c.NumKvHeads, hd, c.EffectiveRopeDim, pos, c.RopeTheta, s.RopeFreqFactors);
        b.Copy(ks, cache.Keys(cacheLayer).Slice((long)nPast * kv, (long)rows * kv));
        b.Copy(vs, cache.Values(cacheLayer).Slice((long)nPast * kv, (long)rows * kv));
        var att = s.Att.View(0, (long)rows * c.QDim);
        b.Attention(qs, cache, cacheLayer, rows, nPast, c.NumHeads, c.NumKvHeads, hd, c.SlidingWindow, att);
        observer?.OnLinearInput(layer, LinearKind.OProj, b.Read(att), rows, c.QDim);
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

    /// <summary>One whole block, in place on x [rows, hidden].</summary>
    public static void Block(LlamaConfig c, LlamaBlock blk, TensorView x, int rows, int nPast, KvCache cache, int cacheLayer,
        ForwardBuffers s, IActivationObserver? observer = null, int layer = -1)
    {
        var b = s.Backend;
        var d = c.HiddenSize;
        var n = (long)rows * d;
        var xs = x.Slice(0, n);
        var h = s.H.View(0, n);
        var o = s.Out.View(0, n);
        b.RmsNorm(xs, blk.AttnNorm, rows, d, c.RmsNormEps, h);
        Attention(c, blk, blk.Q, blk.K, blk.V, blk.O, h, rows, nPast, cache, cacheLayer, s, o, observer, layer);
        b.AddInPlace(xs, o);
        b.RmsNorm(xs, blk.FfnNorm, rows, d, c.RmsNormEps, h);
        Mlp(c, blk, blk.Gate, blk.Up, blk.Down, h, rows, s, o, observer, layer);
        b.AddInPlace(xs, o);
    }
}
