using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization.Gptq;

/// <summary>
/// GPTQ's rounding of one linear (Frantar et al., arXiv 2210.17323, Algorithm 1; IST-DASLab/gptq
/// gptq.py GPTQ.fasterquant, AutoGPTQ gptq.py): columns are rounded one at a time and each one's
/// rounding error, scaled by the inverse Hessian's Cholesky row, is pushed onto the columns not yet
/// rounded, so they compensate for it. In float64, step for step as fasterquant:
/// <list type="bullet">
/// <item>dead inputs (H[i,i] = 0) get H[i,i] = 1 and W[:, i] = 0;</item>
/// <item>act-order: columns in order of decreasing H[i,i] (desc_act), W and H permuted and Q unpermuted after;</item>
/// <item>damping: H += percdamp·mean(diag H)·I; then U = cholesky(H⁻¹, upper);</item>
/// <item>lazy batches of <c>blockSize</c> columns: within a batch errors update the batch's own
/// columns immediately, the rest of W once per batch (W[:, i2:] −= Err·U[i1:i2, i2:]);</item>
/// <item>groups along K (the last one shorter when the group size does not divide K): without
/// act-order a group's scale and zero come from the current W when its first column is reached
/// (gptq.py, static_groups off: W[:, j:j+G] of the outer, batch-updated W); with act-order from the
/// unquantized W up front (gptq.py's static_groups), because AutoAWQ's GEMM layout has no g_idx
/// and a group must stay a contiguous run of columns.</item>
/// </list>
/// A group's scale and zero are AutoAWQ's (<see cref="GroupQuantizer"/>, the native AWQ scheme:
/// scale = fp16(max(max−min, 1e−5)/15), zero = clamp(−round(min/scale), 0, 15)) instead of gptq.py's
/// min(·,0)/max(·,0) ones, and a column is rounded exactly as awq_quantize rounds it, so with H = I
/// (no error to share) the result is round-to-nearest bit for bit, and the integers, scales and zeros
/// are the ones the AutoAWQ checkpoint stores.
/// </summary>
public static class GptqRounding
{
    /// <summary>Rounds w [rows, cols] (fp32, row-major) with the Hessian h [cols, cols] of its inputs.</summary>
    public static QuantizedWeights Quantize(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<double> h, int groupSize, int bits = 4,
        bool actOrder = false, double percDamp = 0.01, int blockSize = 128, string what = "linear")
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"{what}: shape {rows}x{cols} is not positive");
        if (w.Length != (long)rows * cols) throw new ArgumentException($"{what}: weight has {w.Length} values, expected {rows}x{cols}");
        if (h.Length != (long)cols * cols) throw new ArgumentException($"{what}: Hessian has {h.Length} values, expected {cols}x{cols}");
        if (groupSize <= 0 || blockSize <= 0) throw new ArgumentException($"{what}: group size and block size must be positive");
        if (bits is < 2 or > 8) throw new ArgumentException($"{what}: bits must be 2..8 (got {bits})");
        if (!(percDamp > 0)) throw new ArgumentException($"{what}: damping must be positive (got {percDamp})");
        var n = cols;
        var groups = QuantGroups.Count(cols, groupSize);
        var wd = new double[(long)rows * n];
        for (var i = 0; i < wd.Length; i++) wd[i] = w[i];
        var hd = h.ToArray();
        for (var i = 0; i < n; i++)
            if (hd[i * n + i] == 0)
            {
                hd[i * n + i] = 1;
                for (var r = 0; r < rows; r++) wd[(long)r * n + i] = 0;
            }

        // Static group parameters (act-order): from the unquantized, dead-zeroed W in the original column order.
        var qmax = (1 << bits) - 1;
        var scales = new float[(long)rows * groups];
        var zeros = new int[(long)rows * groups];
        if (actOrder)
            for (var g = 0; g < groups; g++) GroupParams(wd, rows, n, g * groupSize, Math.Min(groupSize, n - g * groupSize), bits, scales, zeros, groups, g);

        var perm = Enumerable.Range(0, n).ToArray();
        if (actOrder)
        {
            // Decreasing H[i,i]; ties by column (a stable order, so the result is deterministic).
            var diag = hd;
            perm = perm.OrderByDescending(i => diag[i * n + i]).ThenBy(i => i).ToArray();
            wd = PermuteColumns(wd, rows, n, perm);
            hd = PermuteSymmetric(hd, n, perm);
        }

        double mean = 0;
        for (var i = 0; i < n; i++) mean += hd[i * n + i];
        var damp = percDamp * mean / n;
        for (var i = 0; i < n; i++) hd[i * n + i] += damp;
        var u = Cholesky.Upper(Cholesky.InverseFromLower(Cholesky.Lower(hd, n, $"{what}: the damped Hessian"), n), n, $"{what}: the inverse Hessian");

        var q = new byte[(long)rows * n]; // permuted column order until the end
        var err = new double[(long)rows * blockSize];
        for (var i1 = 0; i1 < n; i1 += blockSize)
        {
            var i2 = Math.Min(i1 + blockSize, n);
            var count = i2 - i1;
            // W1 = W[:, i1:i2] is updated in place in wd (its columns are not read by anyone else until
            // the batch ends), except that a group's parameters are read from the outer W as it was at
            // the batch start: keep that copy for the groups that begin inside the batch.
            var outer = new double[(long)rows * count];
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < count; c++) outer[(long)r * count + c] = wd[(long)r * n + i1 + c];
            for (var i = 0; i < count; i++)
            {
                var col = i1 + i;
                var d = u[col * n + col];
                if (!actOrder && col % groupSize == 0)
                {
                    var len = Math.Min(groupSize, n - col);
                    GroupParamsFrom(wd, outer, rows, n, i1, count, col, len, bits, scales, zeros, groups, col / groupSize);
                }
                var g = (actOrder ? perm[col] : col) / groupSize;
                for (var r = 0; r < rows; r++)
                {
                    var scale = scales[(long)r * groups + g];
                    var zero = zeros[(long)r * groups + g];
                    var x = wd[(long)r * n + col];
                    // awq_quantize's rounding: fp32 quotient, half to even, clamp, then add the zero.
                    var t = MathF.Round((float)x / scale, MidpointRounding.ToEven);
                    t = Math.Clamp(t, -zero, qmax - zero);
                    var qi = (int)t + zero;
                    q[(long)r * n + col] = (byte)qi;
                    var deq = (double)((float)(qi - zero) * scale);
                    var e = (x - deq) / d;
                    err[(long)r * blockSize + i] = e;
                    for (var c = col + 1; c < i2; c++) wd[(long)r * n + c] -= e * u[col * n + c];
                }
            }
            // Lazy batch update of the columns after the batch: W[:, i2:] -= Err1 · U[i1:i2, i2:].
            if (i2 < n)
                Parallel.For(0, rows, r =>
                {
                    var wr = wd.AsSpan(r * n, n);
                    for (var i = 0; i < count; i++)
                    {
                        var e = err[(long)r * blockSize + i];
                        if (e == 0) continue;
                        var ur = u.AsSpan((i1 + i) * n, n);
                        for (var c = i2; c < n; c++) wr[c] -= e * ur[c];
                    }
                });
        }

        var qOut = actOrder ? UnpermuteColumns(q, rows, n, perm) : q;
        var sb = new ushort[scales.Length];
        for (var i = 0; i < sb.Length; i++) sb[i] = Fp16.FromSingle(scales[i]);
        var zb = new byte[zeros.Length];
        for (var i = 0; i < zb.Length; i++) zb[i] = (byte)zeros[i];
        return new QuantizedWeights(rows, cols, groupSize, bits, qOut, sb, zb);
    }

    /// <summary>Group g's parameters from columns [c0, c0+len) of wd, through the native AWQ scheme.</summary>
    private static void GroupParams(double[] wd, int rows, int n, int c0, int len, int bits, float[] scales, int[] zeros, int groups, int g)
    {
        var buf = new float[(long)rows * len];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < len; c++) buf[(long)r * len + c] = (float)wd[(long)r * n + c0 + c];
        StoreParams(buf, rows, len, bits, scales, zeros, groups, g);
    }

    /// <summary>
    /// As <see cref="GroupParams"/> for a group starting at column <paramref name="c0"/> inside the batch [i1, i1+count):
    /// the batch's columns as they were when the batch began (<paramref name="outer"/>), later columns from wd.
    /// </summary>
    private static void GroupParamsFrom(double[] wd, double[] outer, int rows, int n, int i1, int count, int c0, int len, int bits,
        float[] scales, int[] zeros, int groups, int g)
    {
        var buf = new float[(long)rows * len];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < len; c++)
            {
                var col = c0 + c;
                buf[(long)r * len + c] = (float)(col < i1 + count ? outer[(long)r * count + col - i1] : wd[(long)r * n + col]);
            }
        StoreParams(buf, rows, len, bits, scales, zeros, groups, g);
    }

    private static void StoreParams(float[] buf, int rows, int len, int bits, float[] scales, int[] zeros, int groups, int g)
    {
        var q = new int[buf.Length];
        var s = new float[rows];
        var z = new int[rows];
        Kernels.Quantize(buf, rows, len, len, bits, QuantScheme.Awq, q, s, z);
        for (var r = 0; r < rows; r++)
        {
            scales[(long)r * groups + g] = s[r];
            zeros[(long)r * groups + g] = z[r];
        }
    }

    private static double[] PermuteColumns(double[] w, int rows, int n, int[] perm)
    {
        var o = new double[w.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < n; c++) o[(long)r * n + c] = w[(long)r * n + perm[c]];
        return o;
    }

    private static double[] PermuteSymmetric(double[] h, int n, int[] perm)
    {
        var o = new double[h.Length];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++) o[(long)i * n + j] = h[(long)perm[i] * n + perm[j]];
        return o;
    }

    private static byte[] UnpermuteColumns(byte[] q, int rows, int n, int[] perm)
    {
        var o = new byte[q.Length];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < n; c++) o[(long)r * n + perm[c]] = q[(long)r * n + c];
        return o;
    }
}
