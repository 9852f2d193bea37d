namespace AwqRuntime.Native;

/// <summary>
/// W4A8: the W4A16 weights (same layout) times activations quantized to int8 per group, with
/// integer dot products (awq_kernels.h, "W4A8 GEMM"). For decode and batched decode (small m): the
/// weights are streamed once per call for all m rows at the cost of the activation rounding
/// (about 0.5% relative error of y against W4A16 on Gaussian activations).
/// </summary>
public static unsafe partial class Kernels
{
    /// <summary>
    /// Symmetric int8 per group of <paramref name="groupSize"/> columns of each row of x [m, k]:
    /// xScale[r,g] = max|x| / 127, xq = clamp(round_half_even(x / xScale), −127, 127),
    /// xSum[r,g] = Σ xq over the group; an all-zero group gets scale 0 and codes 0. xq [m, k];
    /// xScale and xSum [m, ceil(k / groupSize)].
    /// </summary>
    public static void QuantizeActQ8(ReadOnlySpan<float> x, int m, int k, int groupSize, Span<sbyte> xq,
                                     Span<float> xScale, Span<int> xSum)
    {
        const string fn = "awq_quantize_act_q8";
        if (m > 0 && k > 0 && groupSize > 0)
        {
            long groups = (long)m * Numerics.QuantGroups.Count((long)k, groupSize);
            RequireLength(x, (long)m * k, fn, "x");
            RequireLength(xq, (long)m * k, fn, "xq");
            RequireLength(xScale, groups, fn, "x_scale");
            RequireLength(xSum, groups, fn, "x_sum");
        }
        fixed (float* px = x, ps = xScale)
        fixed (sbyte* pq = xq)
        fixed (int* pz = xSum)
            NativeMethods.Check(NativeMethods.awq_quantize_act_q8(px, m, k, groupSize, pq, ps, pz), fn);
    }

    /// <summary>
    /// y[m,n] = Σ_g xScale[m,g]·scales[n,g]·(Σ_{j∈g} xq[m,j]·q[n,j] − zeros[n,g]·xSum[m,g]) over
    /// activations quantized by <see cref="QuantizeActQ8"/> with the same <paramref name="groupSize"/>
    /// as the weights, which are in <see cref="W4A16Gemm"/>'s layout. Every SIMD path and thread
    /// count gives the same bits.
    /// </summary>
    public static void W4A8Gemm(ReadOnlySpan<sbyte> xq, ReadOnlySpan<float> xScale, ReadOnlySpan<int> xSum, int m, int k,
                                ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales, ReadOnlySpan<byte> zeros, int n,
                                int groupSize, Span<float> y)
    {
        const string fn = "awq_w4a8_gemm";
        if (m > 0 && k > 0 && n > 0 && groupSize > 0)
        {
            long groups = Numerics.QuantGroups.Count((long)k, groupSize);
            RequireLength(xq, (long)m * k, fn, "xq");
            RequireLength(xScale, m * groups, fn, "x_scale");
            RequireLength(xSum, m * groups, fn, "x_sum");
            RequireW4Weights(k, qweight, scales, zeros, n, groupSize, fn);
            RequireLength(y, (long)m * n, fn, "y");
        }
        fixed (sbyte* pq = xq)
        fixed (float* ps = xScale, py = y)
        fixed (int* pz = xSum)
        fixed (byte* pw = qweight, pzw = zeros)
        fixed (Half* psw = scales)
            NativeMethods.Check(
                NativeMethods.awq_w4a8_gemm(pq, ps, pz, m, k, pw, (ushort*)psw, pzw, n, groupSize, py), fn);
    }

    /// <summary>
    /// <see cref="W4A8Gemm(ReadOnlySpan{sbyte}, ReadOnlySpan{float}, ReadOnlySpan{int}, int, int, ReadOnlySpan{byte}, ReadOnlySpan{Half}, ReadOnlySpan{byte}, int, int, Span{float})"/>
    /// on the activations <paramref name="quantized"/> holds (its last <see cref="W4A8Scratch.Quantize"/>):
    /// quantize once, then run every projection that reads the same x (q/k/v, gate/up).
    /// </summary>
    public static void W4A8Gemm(W4A8Scratch quantized, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
                                ReadOnlySpan<byte> zeros, int n, Span<float> y)
    {
        ArgumentNullException.ThrowIfNull(quantized);
        if (quantized.M == 0)
            throw new InvalidOperationException("awq_w4a8_gemm: the W4A8Scratch holds no quantized activations (call Quantize first)");
        W4A8Gemm(quantized.Xq, quantized.XScale, quantized.XSum, quantized.M, quantized.K, qweight, scales, zeros, n,
                 quantized.GroupSize, y);
    }

    /// <summary>
    /// Quantizes x [m, k] into <paramref name="scratch"/> (which grows as needed), then runs the W4A8
    /// GEMM: a drop-in for <see cref="W4A16Gemm"/> with the same operands.
    /// </summary>
    public static void W4A8Gemm(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
                                ReadOnlySpan<byte> zeros, int n, int groupSize, Span<float> y, W4A8Scratch scratch)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        if (m > 0 && k > 0 && n > 0 && groupSize > 0)
        {
            // the GEMM's own span checks first, so a short operand fails before any work is done
            RequireLength(x, (long)m * k, "awq_w4a8_gemm", "x");
            RequireW4Weights(k, qweight, scales, zeros, n, groupSize, "awq_w4a8_gemm");
            RequireLength(y, (long)m * n, "awq_w4a8_gemm", "y");
        }
        scratch.Quantize(x, m, k, groupSize);
        W4A8Gemm(scratch, qweight, scales, zeros, n, y);
    }

    /// <summary>
    /// awq_w4a8_gemm_f32: the same product as <see cref="W4A8Gemm(ReadOnlySpan{float}, int, int, ReadOnlySpan{byte}, ReadOnlySpan{Half}, ReadOnlySpan{byte}, int, int, Span{float}, W4A8Scratch)"/>,
    /// with the native library's per-call scratch for the quantized x.
    /// </summary>
    public static void W4A8GemmF32(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
                                   ReadOnlySpan<byte> zeros, int n, int groupSize, Span<float> y)
    {
        const string fn = "awq_w4a8_gemm_f32";
        if (m > 0 && k > 0 && n > 0 && groupSize > 0)
        {
            RequireLength(x, (long)m * k, fn, "x");
            RequireW4Weights(k, qweight, scales, zeros, n, groupSize, fn);
            RequireLength(y, (long)m * n, fn, "y");
        }
        fixed (float* px = x, py = y)
        fixed (byte* pq = qweight, pz = zeros)
        fixed (Half* ps = scales)
            NativeMethods.Check(NativeMethods.awq_w4a8_gemm_f32(px, m, k, pq, (ushort*)ps, pz, n, groupSize, py), fn);
    }

    /// <summary>
    /// The scales and zero points of W4A16-layout weights [n, groups] rearranged into the tables the
    /// SIMD W4A8 kernels read, 16 output rows at a time (awq_w4a8_tile_tables): made once at load, so
    /// a decode step does not transpose them for every 16-row tile it multiplies.
    /// </summary>
    public static W4A8TileTables W4A8TileTables(ReadOnlySpan<Half> scales, ReadOnlySpan<byte> zeros, int n, int k, int groupSize)
    {
        const string fn = "awq_w4a8_tile_tables";
        long length = 0;
        if (n > 0 && k > 0 && groupSize > 0)
        {
            long groups = Numerics.QuantGroups.Count((long)k, groupSize);
            RequireLength(scales, n * groups, fn, "scales");
            RequireLength(zeros, n * groups, fn, "zeros");
            length = ((n + 15L) / 16) * 16 * groups;
        }
        // never empty (a pinned empty array is a null pointer; a bad shape is reported by the call)
        var tileScales = new ushort[Math.Max(length, 1)];
        var tileZeros = new byte[Math.Max(length, 1)];
        fixed (Half* ps = scales)
        fixed (byte* pz = zeros, ptz = tileZeros)
        fixed (ushort* pts = tileScales)
            NativeMethods.Check(NativeMethods.awq_w4a8_tile_tables((ushort*)ps, pz, n, k, groupSize, pts, ptz), fn);
        return new W4A8TileTables(tileScales, tileZeros, n, k, groupSize);
    }

    /// <summary>
    /// Whether this CPU's W4A8 kernel reads repacked weights (<see cref="W4A8Prepare"/>): true where
    /// the best kernel is the AVX2 one, which streams them faster than it gathers the AutoAWQ rows
    /// (one sequential stream per 8-row tile, no in-register transpose); the AVX-512 kernels read the
    /// rows themselves. The environment variable AWQ_W4A8_REPACK=0 makes it false.
    /// </summary>
    public static bool W4A8RepackPreferred => NativeMethods.awq_w4a8_repack_preferred() != 0;

    /// <summary>
    /// What a W4A8 linear prepares once at load: the tile tables (<see cref="W4A8TileTables"/>) and,
    /// when <paramref name="repack"/> (default: <see cref="W4A8RepackPreferred"/>), a copy of
    /// qweight in the AVX2 kernel's tile order (awq_w4a8_repack) — as many bytes again as qweight.
    /// </summary>
    public static W4A8TileTables W4A8Prepare(ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales, ReadOnlySpan<byte> zeros,
                                             int n, int k, int groupSize, bool? repack = null)
    {
        var tables = W4A8TileTables(scales, zeros, n, k, groupSize);
        if (!(repack ?? W4A8RepackPreferred)) return tables;
        const string fn = "awq_w4a8_repack";
        var bytes = NativeMethods.awq_w4a8_repacked_bytes(n, k);
        if (bytes <= 0 || bytes > Array.MaxLength)
            throw new ArgumentException($"{fn}: {n} x {k} weights cannot be repacked into one array", nameof(qweight));
        RequireLength(qweight, (long)n * (((long)k + 1) / 2), fn, "qweight");
        var repacked = GC.AllocateUninitializedArray<byte>((int)bytes);
        fixed (byte* pq = qweight, pr = repacked)
            NativeMethods.Check(NativeMethods.awq_w4a8_repack(pq, n, k, pr, bytes), fn);
        return new W4A8TileTables(tables.Scales, tables.Zeros, n, k, groupSize, repacked);
    }

    /// <summary>
    /// <see cref="W4A8GemmF32"/> reading the prepared <paramref name="tables"/> (made by
    /// <see cref="W4A8TileTables"/> from these scales and zeros): the same bits, less work per call.
    /// </summary>
    public static void W4A8GemmF32(ReadOnlySpan<float> x, int m, int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales,
                                   ReadOnlySpan<byte> zeros, W4A8TileTables tables, int n, int groupSize, Span<float> y)
    {
        const string fn = "awq_w4a8_gemm_f32_tiled";
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.N != n || tables.K != k || tables.GroupSize != groupSize)
            throw new ArgumentException(
                $"{fn}: argument 'tile_scales' was made for {tables.N} x {tables.K} weights in groups of {tables.GroupSize}, not {n} x {k} in groups of {groupSize}",
                nameof(tables));
        if (m > 0 && k > 0 && n > 0 && groupSize > 0)
        {
            RequireLength(x, (long)m * k, fn, "x");
            RequireW4Weights(k, qweight, scales, zeros, n, groupSize, fn);
            RequireLength(y, (long)m * n, fn, "y");
        }
        fixed (float* px = x, py = y)
        fixed (byte* pq = qweight, pz = zeros, ptz = tables.Zeros, pr = tables.Repacked)
        fixed (Half* ps = scales)
        fixed (ushort* pts = tables.Scales)
        {
            if (tables.Repacked is { } r)
                NativeMethods.Check(NativeMethods.awq_w4a8_gemm_f32_repacked(px, m, k, pq, (ushort*)ps, pz, pts, ptz, pr,
                                                                             r.LongLength, n, groupSize, py),
                                    "awq_w4a8_gemm_f32_repacked");
            else
                NativeMethods.Check(
                    NativeMethods.awq_w4a8_gemm_f32_tiled(px, m, k, pq, (ushort*)ps, pz, pts, ptz, n, groupSize, py), fn);
        }
    }

    private static void RequireW4Weights(int k, ReadOnlySpan<byte> qweight, ReadOnlySpan<Half> scales, ReadOnlySpan<byte> zeros,
                                         int n, int groupSize, string fn)
    {
        long groups = Numerics.QuantGroups.Count((long)k, groupSize);
        RequireLength(qweight, (long)n * (((long)k + 1) / 2), fn, "qweight");
        RequireLength(scales, n * groups, fn, "scales");
        RequireLength(zeros, n * groups, fn, "zeros");
    }
}

/// <summary>
/// Per-tile scale and zero-point tables of one INT4 weight matrix [n, k] for the W4A8 kernels
/// (<see cref="Kernels.W4A8TileTables"/>): [ceil(n/16)][groups][16] fp16 bits and bytes.
/// </summary>
public sealed class W4A8TileTables
{
    internal W4A8TileTables(ushort[] scales, byte[] zeros, int n, int k, int groupSize, byte[]? repacked = null)
    {
        Scales = scales;
        Zeros = zeros;
        Repacked = repacked;
        (N, K, GroupSize) = (n, k, groupSize);
    }

    internal ushort[] Scales { get; }
    internal byte[] Zeros { get; }

    /// <summary>qweight in the AVX2 kernel's tile order (awq_w4a8_repack), or null: see <see cref="Kernels.W4A8Prepare"/>.</summary>
    internal byte[]? Repacked { get; }
    public int N { get; }
    public int K { get; }
    public int GroupSize { get; }

    /// <summary>
    /// Bytes the tables hold (about the size of the scales and zeros they were made from), plus the
    /// repacked weights where there are some.
    /// </summary>
    public long Bytes => Scales.LongLength * 2 + Zeros.LongLength + (Repacked?.LongLength ?? 0);

    /// <summary>Whether the weights were repacked for the AVX2 kernel (<see cref="Kernels.W4A8Prepare"/>).</summary>
    public bool IsRepacked => Repacked != null;
}

/// <summary>
/// The int8 activations of a W4A8 GEMM (xq [m, k], x_scale and x_sum [m, groups]) in buffers that
/// grow to the largest shape seen and are then reused, so decode allocates nothing per token.
/// One x at a time: <see cref="Quantize"/> replaces the previous contents. Not thread-safe.
/// </summary>
public sealed class W4A8Scratch
{
    // Never empty: a pinned empty array is a null pointer, and a bad shape should be reported as
    // the native call names it (argument 'M', 'K', 'group_size'), not as a NULL buffer.
    private sbyte[] _xq = new sbyte[1];
    private float[] _xScale = new float[1];
    private int[] _xSum = new int[1];

    /// <summary>Shape of the activations held (M = 0: none yet).</summary>
    public int M { get; private set; }
    public int K { get; private set; }
    public int GroupSize { get; private set; }
    public int Groups => M == 0 ? 0 : (int)Numerics.QuantGroups.Count((long)K, GroupSize);

    public ReadOnlySpan<sbyte> Xq => _xq.AsSpan(0, M * K);
    public ReadOnlySpan<float> XScale => _xScale.AsSpan(0, M * Groups);
    public ReadOnlySpan<int> XSum => _xSum.AsSpan(0, M * Groups);

    /// <summary>Bytes currently allocated (grows, never shrinks).</summary>
    public long CapacityBytes => _xq.LongLength + 4L * _xScale.LongLength + 4L * _xSum.LongLength;

    /// <summary><see cref="Kernels.QuantizeActQ8"/> of x [m, k] into this scratch.</summary>
    public void Quantize(ReadOnlySpan<float> x, int m, int k, int groupSize)
    {
        M = 0; // nothing valid while (re)filling, or if the native call throws
        if (m > 0 && k > 0 && groupSize > 0)
        {
            long values = (long)m * k, groups = m * Numerics.QuantGroups.Count((long)k, groupSize);
            if (values > Array.MaxLength)
                throw new ArgumentException($"awq_quantize_act_q8: argument 'x' of {m} x {k} values is too large for a W4A8Scratch", nameof(x));
            if (_xq.Length < values) _xq = new sbyte[values];
            if (_xScale.Length < groups)
            {
                _xScale = new float[groups];
                _xSum = new int[groups];
            }
        }
        Kernels.QuantizeActQ8(x, m, k, groupSize, _xq, _xScale, _xSum);
        (M, K, GroupSize) = (m, k, groupSize);
    }
}
