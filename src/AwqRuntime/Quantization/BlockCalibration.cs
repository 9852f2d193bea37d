using AwqRuntime.Backends;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;

namespace AwqRuntime.Quantization;

/// <summary>
/// Step 1 of quantizing a block (AutoAWQ's _get_input_feat): run the full-precision block over the
/// calibration activations, caching every linear's input (what AutoAWQ's forward hooks record) and
/// producing the next block's input; then per-input-channel statistics of those inputs. It also binds
/// a family's scaling groups to the cached inputs, so a method can evaluate the inspected module with
/// candidate weights. Buffers are allocated once per run and reused by every block (same shapes).
/// On a device backend (<see cref="DeviceBackend"/>: `awq quantize --device cuda`) the block forward
/// and every evaluation of the inspected module run there — the cached inputs are uploaded once per
/// block, each sample's activations go up and come back, and the captured inputs and module outputs
/// come back to the host, where the search's scaling, pseudo-quantization and losses stay.
/// </summary>
internal sealed class BlockCalibration(LlamaConfig config, CalibrationSet calib, IComputeBackend? backend = null)
{
    private readonly IComputeBackend _backend = backend ?? CpuBackend.Instance;
    private readonly ActivationCapture _capture = new(config, calib.Samples.Length, calib.SeqLen);
    private readonly ForwardBuffers _buffers = new(backend ?? CpuBackend.Instance, config, calib.SeqLen);
    // One layer's cache, refilled from position 0 by every sample.
    private readonly KvCache _cache = new(backend ?? CpuBackend.Instance, 1, config.KvDim, calib.SeqLen);
    private DeviceTensor? _x;                        // one sample's activations on the device
    private readonly List<DeviceTensor> _bound = []; // the current block's inputs and outputs on the device

    private DeviceBackend? Device => _backend as DeviceBackend;

    public LlamaConfig Config => config;
    public CalibrationSet Calibration => calib;

    /// <summary>Calibration tokens (samples × seqLen), the rows of every cached input.</summary>
    public int Tokens => (int)calib.TokenCount;

    /// <summary>Statistics of each linear's input in the last block run (for the imatrix and awq_search).</summary>
    public Dictionary<LinearKind, ChannelStats> Stats { get; } = new();

    /// <summary>The cached input of <paramref name="kind"/>, [tokens, in_features] (AWQ divides it by the folded scales).</summary>
    public float[] InputOf(LinearKind kind) => _capture.InputOf(kind);

    /// <summary>
    /// Runs <paramref name="block"/> over <paramref name="x"/> ([tokens, hidden], the block's input),
    /// capturing the linears' inputs; x is overwritten with the block's output.
    /// </summary>
    public void Run(int layer, LlamaBlock block, float[] x)
    {
        var seq = calib.SeqLen;
        var n = (long)seq * config.HiddenSize;
        var device = Device;
        if (device != null)
        {
            // the last block's weights and cached inputs: its linears and norms were scaled in place since
            device.ReleaseWeights();
            foreach (var t in _bound) t.Dispose();
            _bound.Clear();
            _x ??= device.Allocate(n);
        }
        var xs = CpuBackend.Wrap(x);
        for (var s = 0; s < calib.Samples.Length; s++)
        {
            _capture.Sample = s;
            if (device == null)
            {
                LlamaForward.Block(config, block, xs.Slice(s * n, n), seq, 0, _cache, 0, _buffers, _capture, layer);
                continue;
            }
            var sample = x.AsSpan(checked((int)(s * n)), (int)n);
            device.Upload(sample, _x!.View());
            LlamaForward.Block(config, block, _x.View(), seq, 0, _cache, 0, _buffers, _capture, layer);
            device.Download(_x.View(), sample);
        }
        Stats.Clear();
        // q/k/v (and gate/up) share one input: compute its statistics once.
        var byInput = new Dictionary<float[], ChannelStats>(ReferenceEqualityComparer.Instance);
        foreach (var kind in LinearKinds.All)
        {
            var input = _capture.InputOf(kind);
            if (!byInput.TryGetValue(input, out var st))
            {
                st = new ChannelStats((int)(input.Length / calib.TokenCount));
                st.Add(input, Tokens);
                byInput[input] = st;
            }
            Stats[kind] = st;
        }
    }

    /// <summary>A family's scaling group bound to the block's cached inputs, its inspected module runnable with candidate linears.</summary>
    public ScalingGroup Bind(ScalingGroupSpec spec, LlamaBlock block)
    {
        var c = config;
        var seq = calib.SeqLen;
        var samples = calib.Samples.Length;
        var tokens = Tokens;
        var d = c.HiddenSize;
        var input = _capture.InputOf(spec.Linears[0]);
        var device = Device;
        var inputView = device == null ? CpuBackend.Wrap(input) : OnDevice(device, input);
        foreach (var k in spec.Linears)
            if (!ReferenceEquals(_capture.InputOf(k), input)) throw new InvalidOperationException($"{spec.Name}: the group's linears do not share one input");
        Action<FloatLinear[], float[]> inspect = spec.Inspect switch
        {
            InspectedModule.SelfAttention => (l, output) =>
            {
                var (q, k, v) = (Pick(spec, l, LinearKind.QProj, block), Pick(spec, l, LinearKind.KProj, block), Pick(spec, l, LinearKind.VProj, block));
                var outputView = OutputView(output);
                for (var s = 0; s < samples; s++)
                    LlamaForward.Attention(c, block, q, k, v, Pick(spec, l, LinearKind.OProj, block), inputView.Slice((long)s * seq * d, (long)seq * d),
                        seq, 0, _cache, 0, _buffers, outputView.Slice((long)s * seq * d, (long)seq * d));
            },
            InspectedModule.Mlp => (l, output) =>
            {
                var (g, u) = (Pick(spec, l, LinearKind.GateProj, block), Pick(spec, l, LinearKind.UpProj, block));
                var outputView = OutputView(output);
                for (var s = 0; s < samples; s++)
                    LlamaForward.Mlp(c, block, g, u, Pick(spec, l, LinearKind.DownProj, block), inputView.Slice((long)s * seq * d, (long)seq * d), seq,
                        _buffers, outputView.Slice((long)s * seq * d, (long)seq * d));
            },
            InspectedModule.Linear when spec.Linears.Length == 1 => (l, output) =>
                _backend.Linear(l[0], inputView, tokens, OutputView(output).Slice(0, (long)tokens * l[0].OutFeatures), block.Bias(spec.Linears[0])),
            _ => throw new InvalidOperationException($"{spec.Name}: a single-linear inspection needs exactly one linear"),
        };
        if (device != null) inspect = RunOnDevice(device, inspect);
        return new ScalingGroup { Spec = spec, Input = input, Inspect = inspect, OnDevice = device != null };
    }

    /// <summary>A host array in a device tensor that lives until the next block.</summary>
    private TensorView OnDevice(DeviceBackend device, float[] host)
    {
        var t = device.Allocate(host.Length);
        _bound.Add(t);
        device.Upload(host, t.View());
        return t.View();
    }

    /// <summary>
    /// The inspection on the device: the module writes a device tensor, which comes back into the host
    /// output; the candidates' weights change in place between calls, so every upload is dropped after one.
    /// </summary>
    private Action<FloatLinear[], float[]> RunOnDevice(DeviceBackend device, Action<FloatLinear[], float[]> hostShaped)
    {
        DeviceTensor? output = null;
        return (l, host) =>
        {
            if (output == null)
            {
                output = device.Allocate(host.Length);
                _bound.Add(output);
            }
            _deviceOutput = output.View();
            try
            {
                hostShaped(l, host);
            }
            finally
            {
                _deviceOutput = null;
            }
            device.Download(output.View(), host);
            device.ReleaseWeights();
        };
    }

    private TensorView? _deviceOutput; // where a device inspection writes, instead of the host output

    private TensorView OutputView(float[] output) => _deviceOutput ?? CpuBackend.Wrap(output);

    /// <summary>The candidate standing in for <paramref name="kind"/> when the group holds it, else the block's own.</summary>
    private static ILinear Pick(ScalingGroupSpec spec, FloatLinear[] candidates, LinearKind kind, LlamaBlock block)
    {
        var i = Array.IndexOf(spec.Linears, kind);
        return i >= 0 ? candidates[i] : block[kind];
    }
}
