using System.Buffers;
using AwqRuntime.Native;
using AwqRuntime.Numerics;

namespace AwqRuntime.Model;

/// <summary>
/// A W8A8 linear with dynamic activation quantization (the tutorial's dynamic quantization, PyTorch's
/// quantize_dynamic): weights INT8, symmetric per output channel (scale = max|w[n,:]|/127), fixed at
/// load; each call quantizes every activation row to UINT8 with its own scale and zero point
/// (asymmetric min/max) and runs the native INT8×INT8→INT32 GEMM, y = s_x·s_w·Σ(x_q − z_x)·w_q.
/// Half the bytes of fp16 weights per token; the rounding of both operands is its cost (measured by KLD).
/// Thread-safe: the per-call scratch is rented, the weights are read-only.
/// </summary>
public sealed class Int8Linear : ILinear
{
    private readonly sbyte[] _wq;     // [Out, In]
    private readonly float[] _wScale; // [Out]

    /// <summary>The weight codes and per-row scales, as a device backend uploads them.</summary>
    internal (sbyte[] Codes, float[] Scales) Weights => (_wq, _wScale);

    private Int8Linear(sbyte[] wq, float[] wScale, int outFeatures, int inFeatures, ActivationQuantParams? staticInput = null)
    {
        _wq = wq;
        _wScale = wScale;
        StaticInput = staticInput;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
    }

    public int InFeatures { get; }
    public int OutFeatures { get; }
    public long WeightBytes => _wq.LongLength + _wScale.LongLength * sizeof(float);

    /// <summary>
    /// Fixed activation scale and zero point (W8A8 static, chosen from calibration by an observer), or
    /// null for dynamic per-row quantization. When set, Forward computes no statistics of its input.
    /// </summary>
    public ActivationQuantParams? StaticInput { get; }

    /// <summary>This linear with fixed activation quantization parameters (static W8A8).</summary>
    public Int8Linear WithStaticInput(ActivationQuantParams p) => new(_wq, _wScale, OutFeatures, InFeatures, p.Validate("input"));

    /// <summary>[Out, In] INT8 weights, −127..127 (what a checkpoint stores).</summary>
    public ReadOnlySpan<sbyte> QWeight => _wq;

    /// <summary>[Out] per-output-channel weight scales: W[n,k] ≈ QWeight[n,k]·WeightScales[n].</summary>
    public ReadOnlySpan<float> WeightScales => _wScale;

    /// <summary>
    /// A linear from stored INT8 weights [outFeatures, inFeatures] and per-channel scales [outFeatures]
    /// (a checkpoint's weight / weight_scale), taken as they are: nothing is dequantized.
    /// </summary>
    public static Int8Linear FromStored(sbyte[] wq, float[] wScale, int outFeatures, int inFeatures, string name)
    {
        if (outFeatures <= 0 || inFeatures <= 0) throw new ArgumentException($"{name}: shape {outFeatures}x{inFeatures} is not positive");
        if (wq.LongLength != (long)outFeatures * inFeatures)
            throw new InvalidDataException($"{name}: weight has {wq.LongLength} values, expected {outFeatures}x{inFeatures}");
        if (wScale.Length != outFeatures) throw new InvalidDataException($"{name}: weight_scale has {wScale.Length} values, expected {outFeatures}");
        if ((long)inFeatures * 255 * 255 >= int.MaxValue)
            throw new InvalidDataException($"{name}: {inFeatures} input features are too many for exact INT8 accumulation (at most 33024)");
        foreach (var v in wq)
            if (v == sbyte.MinValue) throw new InvalidDataException($"{name}: weight holds -128, outside the symmetric range -127..127");
        foreach (var s in wScale)
            if (!float.IsFinite(s) || s < 0) throw new InvalidDataException($"{name}: weight_scale holds {s}, not a finite non-negative scale");
        return new Int8Linear(wq, wScale, outFeatures, inFeatures);
    }

    /// <summary>The per-channel INT8 form of fp32 weights [outFeatures, inFeatures].</summary>
    public static Int8Linear Quantize(ReadOnlySpan<float> weight, int outFeatures, int inFeatures)
    {
        if ((long)outFeatures * inFeatures != weight.Length)
            throw new ArgumentException($"weight has {weight.Length} elements, expected {outFeatures}x{inFeatures}");
        // K·255·255 must stay below 2^31 for the exact int32 accumulation (awq_int8_gemm).
        if ((long)inFeatures * 255 * 255 >= int.MaxValue)
            throw new ArgumentException($"{inFeatures} input features are too many for exact INT8 accumulation (at most 33024)");
        var q = new int[weight.Length];
        var scales = new float[outFeatures];
        var zeros = new int[outFeatures];
        Kernels.Quantize(weight, outFeatures, inFeatures, inFeatures, 8, QuantScheme.Symmetric, q, scales, zeros);
        var wq = new sbyte[q.Length];
        for (var i = 0; i < q.Length; i++) wq[i] = (sbyte)q[i];
        return new Int8Linear(wq, scales, outFeatures, inFeatures);
    }

    /// <summary>The INT8 form of any linear (fp32, fp16, or INT4 dequantized).</summary>
    public static Int8Linear From(ILinear linear) =>
        linear as Int8Linear ?? Quantize(LinearWeights.ToFloat32(linear), linear.OutFeatures, linear.InFeatures);

    public void Forward(ReadOnlySpan<float> x, int rows, Span<float> y)
    {
        var k = InFeatures;
        var n = (long)rows * k;
        var q = ArrayPool<int>.Shared.Rent((int)n);
        var xq = ArrayPool<byte>.Shared.Rent((int)n);
        var scales = ArrayPool<float>.Shared.Rent(rows);
        var zeros = ArrayPool<int>.Shared.Rent(rows);
        try
        {
            if (StaticInput is { } p)
            {
                p.Quantize(x[..(int)n], xq.AsSpan(0, (int)n));
                scales.AsSpan(0, rows).Fill(p.Scale);
                zeros.AsSpan(0, rows).Fill(p.Zero);
            }
            else
            {
                Kernels.Quantize(x[..(int)n], rows, k, k, 8, QuantScheme.Asymmetric, q.AsSpan(0, (int)n), scales.AsSpan(0, rows), zeros.AsSpan(0, rows));
                for (var i = 0; i < n; i++) xq[i] = (byte)q[i];
            }
            Kernels.Int8GemmF32(xq.AsSpan(0, (int)n), zeros.AsSpan(0, rows), scales.AsSpan(0, rows), rows, k, _wq, [], _wScale, OutFeatures,
                y[..(rows * OutFeatures)]);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(q);
            ArrayPool<byte>.Shared.Return(xq);
            ArrayPool<float>.Shared.Return(scales);
            ArrayPool<int>.Shared.Return(zeros);
        }
    }
}
