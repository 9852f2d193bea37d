using AwqRuntime.Backends;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;
using AwqRuntime.Native;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Acceptance;
using Xunit.Abstractions;

namespace AwqRuntime.Tests.Backends;

/// <summary>
/// The device backend (<see cref="DeviceBackend"/>) through the model's backend seam. On a CPU context
/// its kernels are the CPU backend's, so every result must be the CPU backend's bit for bit: that checks
/// the host side — handles, views and their offsets, weight uploads, the KV cache growing in buffers,
/// batched decode, host fallbacks — on any machine. On a CUDA device (when one is present) the same
/// forward passes are compared with the CPU within the kernels' tolerance; without one, the test says why.
/// </summary>
public class DeviceBackendTests(ITestOutputHelper output)
{
    /// <summary>GQA, a short last group (K = 40, g = 16), 300 tokens so the cache outgrows its first 256 positions.</summary>
    private static LlamaConfig Config(string family) => new LlamaConfig
    {
        VocabSize = 64, HiddenSize = 40, IntermediateSize = 56, NumLayers = 2, NumHeads = 4, NumKvHeads = 2,
        MaxPositionEmbeddings = 400, Name = "device-test",
        Family = family switch { "qwen2" => ModelFamilies.Qwen2, "mistral" => ModelFamilies.Mistral, _ => ModelFamilies.Llama },
        SlidingWindow = family == "mistral" ? 37 : 0,
        RopeScaling = family == "llama3" ? RopeScaling.FromFactors([1f, 2f, 4f, 8f, 16f]) : null,
    }.Validate("test");

    private static LlamaModel Model(string family, string weights)
    {
        using var src = new SyntheticWeightSource(Config(family), 7);
        var m = LlamaModel.FromWeights(src);
        ILinear Map(ILinear l)
        {
            var f = (FloatLinear)l;
            return weights switch
            {
                "fp32" => f,
                "fp16" => HalfLinear.From(f, "w"),
                "int4" => new Int4Linear(GroupQuantizer.Quantize(f.Weight, f.OutFeatures, f.InFeatures, 16, 4)),
                "w8a8" => Int8Linear.From(f),
                "w3" => GroupQuantizedLinear.Create(GroupQuantizer.Quantize(f.Weight, f.OutFeatures, f.InFeatures, 16, 3)),
                _ => throw new ArgumentException(weights),
            };
        }
        return new LlamaModel(m.Config, m.Embedding, m.Blocks.Select(b => b.MapLinears(Map)).ToArray(), m.FinalNorm, Map(m.Output));
    }

    private static int[] Tokens(int n, int vocab, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => r.Next(vocab)).ToArray();
    }

    /// <summary>Prefill in chunks of 64 (all logits), three decode steps (last logits), then one batched step of two sequences.</summary>
    private static float[] Run(LlamaModel m)
    {
        var v = m.Config.VocabSize;
        var prompt = Tokens(300, v, 1);
        using var cache = m.CreateCache(m.Config.MaxPositionEmbeddings);
        using var other = m.CreateCache(m.Config.MaxPositionEmbeddings);
        using var buffers = m.CreateBuffers(64);
        var all = new float[prompt.Length * v];
        m.Forward(prompt, cache, buffers, all, LogitsMode.All);
        var result = new List<float>(all);
        var last = new float[v];
        foreach (var t in new[] { 5, 9, 11 })
        {
            m.Forward([t], cache, buffers, last, LogitsMode.Last);
            result.AddRange(last);
        }
        m.Forward(Tokens(17, v, 2), other, buffers, last, LogitsMode.Last);
        var batch = new float[2 * v];
        m.ForwardBatch([3, 4], [cache, other], buffers, batch);
        result.AddRange(batch);
        return result.ToArray();
    }

    /// <summary>Runs <paramref name="m"/> on the CPU backend and on a CPU context, asserts equal results; the context's host fallbacks.</summary>
    private static long SameOnACpuContext(LlamaModel m)
    {
        var expected = Run(m);
        using var device = DeviceBackend.Open(DeviceKind.Cpu);
        Assert.Equal(expected, Run(m.WithBackend(device)));
        return device.HostFallbacks;
    }

    [Theory]
    [InlineData("llama", "fp32")]
    [InlineData("llama", "fp16")]
    [InlineData("llama", "int4")]
    [InlineData("qwen2", "int4")]   // q/k/v biases
    [InlineData("mistral", "fp32")] // sliding window
    [InlineData("llama3", "fp16")]  // RoPE frequency factors
    public void A_cpu_context_runs_the_model_bit_for_bit_as_the_cpu_backend(string family, string weights)
    {
        Assert.Equal(0, SameOnACpuContext(Model(family, weights)));
    }

    /// <summary>
    /// `awq quantize --device`: the calibration forward and every evaluation of the inspected modules
    /// through the device backend choose what the CPU chooses — the same α per group, the same losses,
    /// the same INT4 model — so the uploads, the per-sample round trips and the releases of the
    /// candidates (whose weights change in place between evaluations) are right.
    /// </summary>
    [Theory]
    [InlineData("qwen2", QuantMethod.Awq)]
    [InlineData("mistral", QuantMethod.Awq)]
    [InlineData("llama", QuantMethod.Gptq)]
    public void Quantizing_through_a_cpu_context_chooses_what_the_cpu_backend_chooses(string family, QuantMethod method)
    {
        var c = Config(family);
        var calib = Quantization.ScaleFoldingTests.SmallCalibration(c.VocabSize, samples: 3, seqLen: 32);
        QuantizationResult Quantize(IComputeBackend? backend)
        {
            using var src = new SyntheticWeightSource(c, 7);
            return AwqQuantizer.Quantize(src, calib, new AwqConfig { Method = method, GroupSize = 16, Backend = backend });
        }
        var expected = Quantize(null);
        using var device = DeviceBackend.Open(DeviceKind.Cpu);
        var got = Quantize(device);
        Assert.Equal(expected.Blocks.SelectMany(b => b.Scales.Select(r => (r.Group, r.BestAlpha))), got.Blocks.SelectMany(b => b.Scales.Select(r => (r.Group, r.BestAlpha))));
        Assert.Equal(expected.Blocks.SelectMany(b => b.Scales.SelectMany(r => r.Scales)), got.Blocks.SelectMany(b => b.Scales.SelectMany(r => r.Scales)));
        Assert.Equal(Run(expected.Model), Run(got.Model));
    }

    /// <summary>W8A8 linears on the device kernels: dynamic activations, and static ones (the w8a8-static method's).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void W8a8_linears_run_on_the_device_kernels_as_on_the_cpu(bool staticInput)
    {
        var m = Model("qwen2", "w8a8");
        if (staticInput)
            m = new LlamaModel(m.Config, m.Embedding,
                m.Blocks.Select(b => b.MapLinears(l => ((Int8Linear)l).WithStaticInput(new ActivationQuantParams(0.01f, 128)))).ToArray(), m.FinalNorm, m.Output);
        Assert.Equal(0, SameOnACpuContext(m));
    }

    [Fact]
    public void Linears_without_a_device_kernel_run_on_the_host_with_the_same_result()
    {
        Assert.True(SameOnACpuContext(Model("llama", "w3")) > 0);
    }

    [Fact]
    public void Stories260K_logits_on_a_cpu_context_equal_the_cpu_backend()
    {
        using var m = AwqModel.Load(SharedData.Stories260KBin, SharedData.Tok512);
        var tokens = m.Tokenizer.Encode("Once upon a time, there was a little girl named Lily. She loved to play outside.", addBos: true);
        float[] Logits(LlamaModel model)
        {
            using var cache = model.CreateCache(512);
            using var buffers = model.CreateBuffers();
            var logits = new float[tokens.Length * model.Config.VocabSize];
            model.Forward(tokens, cache, buffers, logits, LogitsMode.All);
            return logits;
        }
        var expected = Logits(m.Model);
        using var device = DeviceBackend.Open(DeviceKind.Cpu);
        Assert.Equal(expected, Logits(m.Model.WithBackend(device)));
    }

    [Fact]
    public void Tensors_of_another_backend_are_refused_and_a_disposed_backend_says_so()
    {
        var m = Model("llama", "fp32");
        using var a = DeviceBackend.Open(DeviceKind.Cpu);
        using var b = DeviceBackend.Open(DeviceKind.Cpu);
        using var x = a.Allocate(40);
        using var y = b.Allocate(40);
        var ex = Assert.Throws<InvalidOperationException>(() => a.Copy(x.View(), y.View()));
        Assert.Contains("was given to cpu-context", ex.Message);
        Assert.Throws<InvalidOperationException>(() => a.Linear(m.Blocks[0].Q, CpuBackend.Wrap(new float[40]), 1, x.View()));
        // views are checked natively too: a view past its tensor cannot be made, a short download is refused
        Assert.Throws<ArgumentOutOfRangeException>(() => x.View(30, 20));
        Assert.Throws<ArgumentException>(() => a.Download(x.View(), new float[10]));
        var up = new float[40];
        up[7] = 3;
        a.Upload(up, x.View());
        Assert.Equal(3, a.Read(x.View(7, 1))[0]);
        var c = DeviceBackend.Open(DeviceKind.Cpu);
        var t = c.Allocate(4);
        c.Dispose();
        Assert.Throws<ObjectDisposedException>(() => c.Read(t.View()));
        t.Dispose(); // the context is freed after its last buffer
    }

    [Fact]
    public void Out_of_memory_is_an_insufficient_memory_exception_naming_the_size()
    {
        using var a = DeviceBackend.Open(DeviceKind.Cpu);
        var ex = Assert.Throws<InsufficientMemoryException>(() => a.Allocate(1L << 60));
        Assert.Contains("awq_buffer_create", ex.Message);
    }

    /// <summary>Without a usable CUDA device, the reason reads as `--device cuda` reports it (a machine with one has nothing to check here).</summary>
    [Fact]
    public void Without_a_cuda_device_the_reason_is_named()
    {
        var why = ComputeDevices.CudaUnavailableReason();
        if (why == null) return;
        Assert.Matches("CUDA kernels are not available|no CUDA device", why);
        var ex = Assert.Throws<ArgumentException>(() => ComputeDevices.Open("cuda"));
        Assert.StartsWith("--device cuda: ", ex.Message);
        output.WriteLine($"no CUDA device here: {why}");
    }

    /// <summary>
    /// With a CUDA device: every forward pass above on the GPU, against the CPU — FP32 logits to a KL of
    /// 1e-6, INT4 within the W4A16 kernels' tolerance. Without one it is reported as skipped, with the reason.
    /// </summary>
    [SkippableFact]
    public void Cuda_runs_the_model_as_the_cpu_does()
    {
        var why = ComputeDevices.CudaUnavailableReason();
        Skip.If(why != null, $"needs a CUDA device: {why}");
        using var gpu = DeviceBackend.Open(DeviceKind.Cuda);
        output.WriteLine(ComputeDevices.Info(DeviceKind.Cuda, 0).ToString());
        foreach (var (family, weights) in new[] { ("llama", "fp32"), ("llama", "fp16"), ("llama", "int4"), ("qwen2", "int4"), ("mistral", "fp32"), ("llama3", "fp16") })
        {
            var m = Model(family, weights);
            var expected = Run(m);
            var got = Run(m.WithBackend(gpu));
            var kl = MeanKl(expected, got, m.Config.VocabSize);
            output.WriteLine($"{family} {weights}: mean KL(cpu ‖ cuda) {kl:E2}");
            Assert.True(kl <= 1e-6, $"{family} {weights}: mean KL {kl:E2}");
        }
    }

    private static double MeanKl(float[] p, float[] q, int v)
    {
        double sum = 0;
        var rows = p.Length / v;
        for (var r = 0; r < rows; r++)
        {
            var a = p.AsSpan(r * v, v);
            var b = q.AsSpan(r * v, v);
            double ma = double.MinValue, mb = double.MinValue;
            for (var i = 0; i < v; i++) { ma = Math.Max(ma, a[i]); mb = Math.Max(mb, b[i]); }
            double za = 0, zb = 0;
            for (var i = 0; i < v; i++) { za += Math.Exp(a[i] - ma); zb += Math.Exp(b[i] - mb); }
            for (var i = 0; i < v; i++)
            {
                var la = a[i] - ma - Math.Log(za);
                var lb = b[i] - mb - Math.Log(zb);
                sum += Math.Exp(la) * (la - lb);
            }
        }
        return sum / rows;
    }
}

/// <summary>--device on the command line: a device this machine lacks is a one-line error; `awq info` lists the devices.</summary>
public class DeviceCliTests
{
    [Fact]
    public void An_unknown_device_is_a_one_line_error() =>
        AwqCli.FailWithOneLine("--device 'tpu' is not 'cpu', 'cuda' or 'cuda:N'",
            "generate", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "-n", "2", "--device", "tpu");

    [SkippableFact]
    public void Cuda_without_a_device_says_why_in_one_line()
    {
        Skip.If(ComputeDevices.CudaUnavailableReason() == null, "this machine has a CUDA device");
        AwqCli.FailWithOneLine("--device cuda: ", "eval", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--data", SharedData.EvalText,
            "--chunks", "1", "--device", "cuda");
    }

    [Fact]
    public void Info_lists_the_devices_or_why_there_are_none()
    {
        var r = AwqCli.Succeed("info", "--json");
        Assert.Contains("\"cuda_devices\"", r.Stdout);
        Assert.Contains("\"devices\"", r.Stdout);
        if (ComputeDevices.Count(DeviceKind.Cuda) == 0) Assert.Contains("\"cuda_unavailable\"", r.Stdout);
        var text = AwqCli.Succeed("info").Stdout;
        Assert.Contains("CUDA", text);
    }
}
