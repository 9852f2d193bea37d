using System.Numerics;

namespace AwqRuntime.Quantization.Gptq;

/// <summary>
/// GPTQ's layer Hessian H = 2·XᵀX / n of one linear's inputs X [n tokens, K] (gptq.py add_batch:
/// H += 2/nsamples · inp·inpᵀ), accumulated in float64. The reconstruction error ‖WX − ŴX‖² of a
/// rounded row changes by ΔwᵀHΔw/2·n, which is what GPTQ's rounding minimises column by column.
/// </summary>
public static class Hessian
{
    private const int Chunk = 256;

    /// <summary>H [K, K] row-major from x [tokens, k] row-major.</summary>
    public static double[] FromInputs(ReadOnlySpan<float> x, int tokens, int k)
    {
        if (tokens <= 0 || k <= 0) throw new ArgumentException($"Hessian of {tokens} tokens x {k} features");
        if (x.Length < (long)tokens * k) throw new ArgumentException($"inputs hold {x.Length} values, expected {tokens}x{k}");
        var h = new double[(long)k * k];
        var t = new double[(long)k * Chunk];
        // Tokens in chunks, each transposed to contiguous per-feature rows so the inner products
        // vectorise; the rows of H are split across threads, and every entry sums its chunks in
        // order, so H is the same bits on any number of cores.
        for (var t0 = 0; t0 < tokens; t0 += Chunk)
        {
            var len = Math.Min(Chunk, tokens - t0);
            if (len < Chunk) Array.Clear(t);
            for (var r = 0; r < len; r++)
                for (var i = 0; i < k; i++)
                    t[(long)i * Chunk + r] = x[(t0 + r) * k + i];
            Parallel.For(0, k, i =>
            {
                var ti = t.AsSpan(i * Chunk, Chunk);
                for (var j = i; j < k; j++) h[(long)i * k + j] += Dot(ti, t.AsSpan(j * Chunk, Chunk));
            });
        }
        var f = 2.0 / tokens;
        for (var i = 0; i < k; i++)
            for (var j = i; j < k; j++)
            {
                var v = h[(long)i * k + j] * f;
                h[(long)i * k + j] = v;
                h[(long)j * k + i] = v;
            }
        return h;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var acc = Vector<double>.Zero;
        var i = 0;
        for (; i + Vector<double>.Count <= a.Length; i += Vector<double>.Count)
            acc += new Vector<double>(a[i..]) * new Vector<double>(b[i..]);
        var s = Vector.Sum(acc);
        for (; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
