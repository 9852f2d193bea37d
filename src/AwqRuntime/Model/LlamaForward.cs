using AwqRuntime.Native;

namespace AwqRuntime.Model;

/// <summary>
/// The pieces of a LLaMA-family block as functions of explicit weights, so the runtime, calibration
/// and the AWQ search (which evaluates candidate weights on cached inputs) all share one implementation:
///   x += o_proj(attention(rope(q_proj(h) + b_q), rope(k_proj(h) + b_k), v_proj(h) + b_v))   with h = rmsnorm(x)
///   x += down_proj(silu(gate_proj(h)) * up_proj(h))                                        with h = rmsnorm(x)
/// Biases are the block's (<see cref="LlamaBlock.Bias"/>; Qwen2's q/k/v), RoPE carries the config's
/// frequency factors (Llama 3.1) and attention its sliding window (Mistral).
/// Shapes: activations are [rows, features] row-major; the KV cache is [capacity, n_kv, head_dim].
/// </summary>
public static class LlamaForward
{
    /// <summary>
    /// Self-attention of <paramref name="rows"/> new tokens at positions nPast.. (their keys and values
    /// are written into the cache at those rows), result [rows, hidden] into <paramref name="output"/>.
    /// <paramref name="q"/> … <paramref name="o"/> stand in for the block's linears; its biases apply.
    /// </summary>
    public static void Attention(LlamaConfig c, LlamaBlock block, ILinear q, ILinear k, ILinear v, ILinear o,
        ReadOnlySpan<float> h, int rows, int nPast, float[] kCache, float[] vCache, int capacity,
        ForwardBuffers s, Span<float> output, IActivationObserver? observer = null, int layer = -1)
    {
        if (nPast + rows > capacity)
            throw new InvalidOperationException($"context full: {nPast} + {rows} tokens exceed the KV cache of {capacity}");
        var hd = c.EffectiveHeadDim;
        var kv = c.KvDim;
        observer?.OnLinearInput(layer, LinearKind.QProj, h[..(rows * c.HiddenSize)], rows, c.HiddenSize);
        var qs = s.Q.AsSpan(0, rows * c.QDim);
        var ks = s.K.AsSpan(0, rows * kv);
        var vs = s.V.AsSpan(0, rows * kv);
        q.Forward(h, rows, qs);
        k.Forward(h, rows, ks);
        v.Forward(h, rows, vs);
        AddBias(qs, rows, block.Bias(LinearKind.QProj));
        AddBias(ks, rows, block.Bias(LinearKind.KProj));
        AddBias(vs, rows, block.Bias(LinearKind.VProj));
        var pos = s.Positions.AsSpan(0, rows);
        for (var i = 0; i < rows; i++) pos[i] = nPast + i;
        Kernels.Rope(qs, rows, c.NumHeads, hd, c.EffectiveRopeDim, pos, c.RopeTheta, s.RopeFreqFactors);
        Kernels.Rope(ks, rows, c.NumKvHeads, hd, c.EffectiveRopeDim, pos, c.RopeTheta, s.RopeFreqFactors);
        ks.CopyTo(kCache.AsSpan(nPast * kv, rows * kv));
        vs.CopyTo(vCache.AsSpan(nPast * kv, rows * kv));
        var att = s.Att.AsSpan(0, rows * c.QDim);
        Kernels.Attention(qs, kCache, vCache, rows, nPast, capacity, c.NumHeads, c.NumKvHeads, hd, c.SlidingWindow, att);
        observer?.OnLinearInput(layer, LinearKind.OProj, att, rows, c.QDim);
        o.Forward(att, rows, output[..(rows * c.HiddenSize)]);
        AddBias(output[..(rows * c.HiddenSize)], rows, block.Bias(LinearKind.OProj));
    }

    /// <summary>SwiGLU MLP: down(silu(gate(h)) * up(h)), result [rows, hidden]; the block's MLP biases apply.</summary>
    public static void Mlp(LlamaConfig c, LlamaBlock block, ILinear gate, ILinear up, ILinear down, ReadOnlySpan<float> h, int rows,
        ForwardBuffers s, Span<float> output, IActivationObserver? observer = null, int layer = -1)
    {
        var n = rows * c.IntermediateSize;
        observer?.OnLinearInput(layer, LinearKind.GateProj, h[..(rows * c.HiddenSize)], rows, c.HiddenSize);
        var g = s.Gate.AsSpan(0, n);
        var u = s.Up.AsSpan(0, n);
        gate.Forward(h, rows, g);
        up.Forward(h, rows, u);
        AddBias(g, rows, block.Bias(LinearKind.GateProj));
        AddBias(u, rows, block.Bias(LinearKind.UpProj));
        Kernels.SiluMul(g, u, n, g);
        observer?.OnLinearInput(layer, LinearKind.DownProj, g, rows, c.IntermediateSize);
        down.Forward(g, rows, output[..(rows * c.HiddenSize)]);
        AddBias(output[..(rows * c.HiddenSize)], rows, block.Bias(LinearKind.DownProj));
    }

    /// <summary>One whole block, in place on x [rows, hidden].</summary>
    public static void Block(LlamaConfig c, LlamaBlock b, Span<float> x, int rows, int nPast, float[] kCache, float[] vCache,
        int capacity, ForwardBuffers s, IActivationObserver? observer = null, int layer = -1)
    {
        var d = c.HiddenSize;
        var xs = x[..(rows * d)];
        var h = s.H.AsSpan(0, rows * d);
        var o = s.Out.AsSpan(0, rows * d);
        Kernels.RmsNorm(xs, b.AttnNorm, rows, d, c.RmsNormEps, h);
        Attention(c, b, b.Q, b.K, b.V, b.O, h, rows, nPast, kCache, vCache, capacity, s, o, observer, layer);
        VectorOps.AddInPlace(xs, o);
        Kernels.RmsNorm(xs, b.FfnNorm, rows, d, c.RmsNormEps, h);
        Mlp(c, b, b.Gate, b.Up, b.Down, h, rows, s, o, observer, layer);
        VectorOps.AddInPlace(xs, o);
    }

    /// <summary>y[r, :] += bias for each of the rows (no-op without a bias).</summary>
    internal static void AddBias(Span<float> y, int rows, float[]? bias)
    {
        if (bias == null) return;
        var n = bias.Length;
        for (var r = 0; r < rows; r++) VectorOps.AddInPlace(y.Slice(r * n, n), bias);
    }
}
