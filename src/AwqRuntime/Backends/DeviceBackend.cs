using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AwqRuntime.Model;
using AwqRuntime.Native;

namespace AwqRuntime.Backends;

/// <summary>A tensor in a buffer of a <see cref="DeviceBackend"/>'s context (device memory on CUDA).</summary>
public sealed class BufferTensor : DeviceTensor
{
    internal BufferTensor(DeviceBackend owner, BufferHandle handle, long length)
    {
        Owner = owner;
        Handle = handle;
        Length = length;
    }

    internal DeviceBackend Owner { get; }
    internal BufferHandle Handle { get; }
    public override DeviceKind Device => Owner.Device;
    public override long Length { get; }

    public override void Dispose()
    {
        Handle.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// The backend over a native context (awq_kernels.h, "Devices"): activations, the KV cache and the
/// weights live in the context's buffers — device memory on CUDA, uploaded once — and every
/// operation is one awq_dev_* call over views of them. On a CUDA context this is the GPU backend; on
/// a CPU context the same calls run the CPU kernels over host buffers, which is how the host side of
/// this class (handles, views, offsets, weight uploads) is tested against <see cref="CpuBackend"/>
/// bit for bit on machines without a GPU. Weights are uploaded on first use and kept while the model
/// object that holds them lives. fp32, fp16, INT4 (W4A16) and W8A8 linears have device kernels;
/// 2/3/8-bit weights run on the host: their input is downloaded, their output uploaded
/// (<see cref="HostFallbacks"/> counts them).
/// Uploaded weights are taken to be immutable: code that changes a weight array in place (the AWQ
/// search's candidates, scale folding) calls <see cref="ReleaseWeights"/> before running it again.
/// One thread at a time, like the model it runs.
/// </summary>
public sealed unsafe class DeviceBackend : IComputeBackend, IDisposable
{
    private readonly ContextHandle _context;
    private readonly ConditionalWeakTable<ILinear, DeviceLinear> _linears = new();
    private readonly ConditionalWeakTable<float[], BufferTensor> _vectors = new();
    private BufferTensor? _scratch; // a classifier's output on its way to the host
    private float[] _host = [];     // rows on their way to the device (embedding) or a host fallback
    private bool _disposed;

    private DeviceBackend(DeviceKind kind, int ordinal, ContextHandle context)
    {
        Device = kind;
        Ordinal = ordinal;
        _context = context;
        Name = kind == DeviceKind.Cuda ? $"cuda:{ordinal}" : "cpu-context";
    }

    /// <summary>
    /// A context on device <paramref name="ordinal"/> of <paramref name="kind"/>. No CUDA kernels in the
    /// build, or no such device: a <see cref="NativeKernelException"/> whose message says which.
    /// </summary>
    public static DeviceBackend Open(DeviceKind kind, int ordinal = 0) => new(kind, ordinal, ContextHandle.Create(kind, ordinal));

    public string Name { get; }
    public DeviceKind Device { get; }
    public int Ordinal { get; }

    /// <summary>Linear calls that ran on the host because their format has no device kernel.</summary>
    public long HostFallbacks { get; private set; }

    private IntPtr Ctx
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _context.DangerousGetHandle();
        }
    }

    public DeviceTensor Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var bytes = checked(Math.Max(1, length) * sizeof(float));
        return new BufferTensor(this, BufferHandle.Create(_context, bytes), length);
    }

    /// <summary>Waits for every queued operation; reports a failure of any of them.</summary>
    public void Synchronize() => NativeMethods.Check(NativeMethods.awq_context_synchronize(Ctx), "awq_context_synchronize");

    private DView V(TensorView v)
    {
        if (v.Tensor is not BufferTensor t || !ReferenceEquals(t.Owner, this))
            throw new InvalidOperationException($"a tensor of {(v.Tensor as BufferTensor)?.Owner.Name ?? v.Device.ToString()} was given to {Name}");
        return new DView(t.Handle.DangerousGetHandle(), v.Offset * sizeof(float));
    }

    private static DView V(BufferTensor t) => new(t.Handle.DangerousGetHandle(), 0);

    public void Upload(ReadOnlySpan<float> source, TensorView destination)
    {
        if (source.Length > destination.Length) throw new ArgumentException($"{source.Length} floats do not fit a view of {destination.Length}");
        fixed (float* p = source)
            NativeMethods.Check(NativeMethods.awq_buffer_upload(Ctx, V(destination), p, (long)source.Length * sizeof(float)), "awq_buffer_upload");
    }

    public void Download(TensorView source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException($"a view of {source.Length} floats does not fit {destination.Length}");
        fixed (float* p = destination)
            NativeMethods.Check(NativeMethods.awq_buffer_download(Ctx, V(source), p, source.Length * sizeof(float)), "awq_buffer_download");
    }

    public ReadOnlySpan<float> Read(TensorView source)
    {
        var host = new float[source.Length];
        Download(source, host);
        return host;
    }

    public void Copy(TensorView source, TensorView destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException($"copy of {source.Length} floats into {destination.Length}");
        NativeMethods.Check(NativeMethods.awq_buffer_copy(Ctx, V(source), V(destination), source.Length * sizeof(float)), "awq_buffer_copy");
    }

    /// <summary>Rows are gathered on the host (the table stays there, in whatever format it has) and uploaded.</summary>
    public void Embed(TokenEmbedding table, ReadOnlySpan<int> tokens, TensorView x)
    {
        var d = table.Dim;
        var host = HostRows((long)tokens.Length * d);
        for (var i = 0; i < tokens.Length; i++) table.CopyRow(tokens[i], host.Slice(i * d, d));
        Upload(host, x.Slice(0, (long)tokens.Length * d));
    }

    public void RmsNorm(TensorView x, float[] weight, int rows, int dim, float eps, TensorView y) =>
        NativeMethods.Check(NativeMethods.awq_dev_rmsnorm(Ctx, V(x), V(Vector(weight)), rows, dim, eps, V(y)), "awq_dev_rmsnorm");

    public void AddRmsNorm(TensorView x, TensorView delta, float[] weight, int rows, int dim, float eps, TensorView y) =>
        NativeMethods.Check(NativeMethods.awq_dev_add_rmsnorm(Ctx, V(x), V(delta), V(Vector(weight)), rows, dim, eps, V(y)), "awq_dev_add_rmsnorm");

    public void Linear(ILinear linear, TensorView x, int rows, TensorView y, float[]? bias = null)
    {
        var w = _linears.GetValue(linear, Upload);
        var xv = V(x);
        var yv = V(y);
        var ctx = Ctx;
        long k = linear.InFeatures, n = linear.OutFeatures;
        switch (w)
        {
            case DeviceLinear.F32 f:
                NativeMethods.Check(NativeMethods.awq_dev_f32_gemm(ctx, xv, rows, k, V(f.W), n, yv), "awq_dev_f32_gemm");
                break;
            case DeviceLinear.F16 h:
                NativeMethods.Check(NativeMethods.awq_dev_f16_gemm(ctx, xv, rows, k, V(h.W), n, yv), "awq_dev_f16_gemm");
                break;
            case DeviceLinear.W4 q:
                NativeMethods.Check(NativeMethods.awq_dev_w4a16_gemm(ctx, xv, rows, k, V(q.Packed), V(q.Scales), V(q.Zeros), n, q.GroupSize, yv),
                    "awq_dev_w4a16_gemm");
                break;
            case DeviceLinear.W8 w8:
            {
                // activations to uint8 (static parameters, or per row), then the INT8 product: Int8Linear.Forward's two steps
                var (xq, xs, xz) = ActivationScratch(rows, k);
                NativeMethods.Check(NativeMethods.awq_dev_quantize_act_u8(ctx, xv, rows, k, w8.Static?.Scale ?? 0, w8.Static?.Zero ?? 0, xq, xs, xz),
                    "awq_dev_quantize_act_u8");
                NativeMethods.Check(NativeMethods.awq_dev_int8_gemm_f32(ctx, xq, xz, xs, rows, k, V(w8.Codes), V(w8.Scales), n, yv), "awq_dev_int8_gemm_f32");
                break;
            }
            default:
                HostLinear(linear, x, rows, y);
                break;
        }
        if (bias != null)
            NativeMethods.Check(NativeMethods.awq_dev_add_bias(ctx, yv, rows, n, V(Vector(bias))), "awq_dev_add_bias");
    }

    public void Linear(ILinear linear, TensorView x, int rows, Span<float> y)
    {
        var n = (long)rows * linear.OutFeatures;
        if (_scratch == null || _scratch.Length < n)
        {
            _scratch?.Dispose();
            _scratch = (BufferTensor)Allocate(n);
        }
        var out_ = _scratch.View(0, n);
        Linear(linear, x, rows, out_);
        Download(out_, y[..checked((int)n)]);
    }

    public void Rope(TensorView x, int rows, int heads, int headDim, int ropeDim, ReadOnlySpan<int> positions, float theta, float[] freqFactors)
    {
        if (positions.Length < rows) throw new ArgumentException($"{positions.Length} positions for {rows} rows");
        fixed (int* pos = positions)
        fixed (float* ff = freqFactors)
            NativeMethods.Check(NativeMethods.awq_dev_rope(Ctx, V(x), rows, heads, headDim, ropeDim, pos, theta, freqFactors.Length == 0 ? null : ff),
                "awq_dev_rope");
    }

    public void Attention(TensorView q, KvCache cache, int layer, int rows, int nPast, int heads, int kvHeads, int headDim, int window, TensorView output) =>
        NativeMethods.Check(NativeMethods.awq_dev_attention(Ctx, V(q), V(cache.Keys(layer)), V(cache.Values(layer)), rows, nPast, cache.Allocated,
            heads, kvHeads, headDim, window, V(output)), "awq_dev_attention");

    public void SiluMul(TensorView gate, TensorView up, TensorView output) =>
        NativeMethods.Check(NativeMethods.awq_dev_silu_mul(Ctx, V(gate), V(up), output.Length, V(output)), "awq_dev_silu_mul");

    public void AddInPlace(TensorView x, TensorView y) =>
        NativeMethods.Check(NativeMethods.awq_dev_add(Ctx, V(x), V(y), x.Length), "awq_dev_add");

    // ---- weights on the device ------------------------------------------------------------------
    private abstract record DeviceLinear
    {
        public sealed record F32(BufferTensor W) : DeviceLinear;
        public sealed record F16(BufferTensor W) : DeviceLinear;
        public sealed record W4(BufferTensor Packed, BufferTensor Scales, BufferTensor Zeros, int GroupSize) : DeviceLinear;
        public sealed record W8(BufferTensor Codes, BufferTensor Scales, ActivationQuantParams? Static) : DeviceLinear;
        public sealed record Host : DeviceLinear;
    }

    private DeviceLinear Upload(ILinear linear) => linear switch
    {
        FloatLinear f => new DeviceLinear.F32(Put<float>(f.Weight)),
        HalfLinear h => new DeviceLinear.F16(Put<ushort>(h.Weight)),
        Int4Linear q => new DeviceLinear.W4(Put<byte>(q.KernelWeights.Packed), Put<ushort>(q.KernelWeights.Scales), Put<byte>(q.KernelWeights.Zeros), q.GroupSize),
        Int8Linear w => new DeviceLinear.W8(Put<sbyte>(w.Weights.Codes), Put<float>(w.Weights.Scales), w.StaticInput),
        _ => new DeviceLinear.Host(),
    };

    private BufferTensor Vector(float[] v) => _vectors.GetValue(v, a => Put<float>(a));

    /// <summary>A host array in a new buffer (its length counted in floats, rounded up).</summary>
    private BufferTensor Put<T>(T[] data) where T : unmanaged
    {
        var bytes = (long)data.Length * sizeof(T);
        var t = RawBuffer(bytes);
        fixed (T* p = data)
            NativeMethods.Check(NativeMethods.awq_buffer_upload(Ctx, V(t), p, bytes), "awq_buffer_upload");
        return t;
    }

    /// <summary>A buffer of at least <paramref name="bytes"/>, whole floats long (so its <see cref="BufferTensor.Length"/> covers all of it).</summary>
    private BufferTensor RawBuffer(long bytes)
    {
        var floats = Math.Max(1, (bytes + 3) / 4);
        return new BufferTensor(this, BufferHandle.Create(_context, floats * sizeof(float)), floats);
    }

    private BufferTensor? _actCodes, _actScales, _actZeros; // W8A8: the activations' codes and per-row parameters

    private (DView Codes, DView Scales, DView Zeros) ActivationScratch(long rows, long k)
    {
        BufferTensor Ensure(ref BufferTensor? t, long bytes)
        {
            if (t == null || t.Length * sizeof(float) < bytes)
            {
                t?.Dispose();
                t = RawBuffer(bytes);
            }
            return t;
        }
        return (V(Ensure(ref _actCodes, rows * k)), V(Ensure(ref _actScales, rows * sizeof(float))), V(Ensure(ref _actZeros, rows * sizeof(int))));
    }

    private Span<float> HostRows(long n)
    {
        if (_host.Length < n) _host = new float[n];
        return _host.AsSpan(0, checked((int)n));
    }

    private void HostLinear(ILinear linear, TensorView x, int rows, TensorView y)
    {
        HostFallbacks++;
        var xs = new float[(long)rows * linear.InFeatures];
        Download(x.Slice(0, xs.Length), xs);
        var ys = HostRows((long)rows * linear.OutFeatures);
        linear.Forward(xs, rows, ys);
        Upload(ys, y.Slice(0, ys.Length));
    }

    /// <summary>Frees every uploaded weight (linears, norms, biases); the next use uploads the host arrays as they are then.</summary>
    public void ReleaseWeights()
    {
        DisposeWeights();
        _linears.Clear();
        _vectors.Clear();
    }

    private void DisposeWeights()
    {
        foreach (var (_, w) in _linears)
            foreach (var t in w switch
                     {
                         DeviceLinear.F32 f => [f.W],
                         DeviceLinear.F16 h => [h.W],
                         DeviceLinear.W4 q => [q.Packed, q.Scales, q.Zeros],
                         DeviceLinear.W8 q8 => [q8.Codes, q8.Scales],
                         _ => Array.Empty<BufferTensor>(),
                     })
                t.Dispose();
        foreach (var (_, t) in _vectors) t.Dispose();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _scratch?.Dispose();
        _actCodes?.Dispose();
        _actScales?.Dispose();
        _actZeros?.Dispose();
        DisposeWeights();
        _context.Dispose(); // freed for real once the caller's tensors (cache, buffers) are disposed too
    }
}
