using System.CommandLine;
using AwqRuntime.Backends;
using AwqRuntime.Model;

namespace AwqRuntime.Cli;

/// <summary>
/// The run-time choices of the commands that run a model (generate, eval, chat, serve, bench,
/// bench-serve): which kernel the INT4 linears use, how the classifier runs, and on which device.
/// None changes the checkpoint; the first two trade a measured amount of fidelity for speed.
/// </summary>
internal sealed class RuntimeChoices
{
    /// <summary>--classifier stored|int8: run lm_head as stored (fp16/fp32) or as INT8 with dynamic activations.</summary>
    public Option<string> Classifier { get; } = new("--classifier")
    {
        Description = "lm_head at run time: 'stored' (as the checkpoint keeps it), 'int8' (INT8 weights, activations quantized per token; half the bytes of fp16) or 'int4' (RTN INT4 g32 on the --kernel; about a quarter)",
        DefaultValueFactory = _ => "stored",
    };

    /// <summary>--kernel w4a16|w4a8: the product the INT4 linears run.</summary>
    public Option<string> Kernel { get; } = new("--kernel")
    {
        Description = "INT4 linears: 'w4a16' (exact: fp32 activations) or 'w4a8' (activations rounded to int8 per group, integer dot products; faster)",
        DefaultValueFactory = _ => "w4a16",
    };

    /// <summary>--device cpu|cuda[:N]: where the model runs.</summary>
    public Option<string> Device { get; } = new("--device")
    {
        Description = "Where the model runs: 'cpu', or 'cuda' / 'cuda:N' (weights, activations and the KV cache in GPU memory; `awq info` lists the devices)",
        DefaultValueFactory = _ => "cpu",
    };

    public void Apply(ParseResult parse, AwqModel m)
    {
        var kernel = Int4Kernels.Parse(parse.GetValue(Kernel));
        ApplyClassifier(parse, m);
        if (kernel != Int4Kernel.W4A16 && !HasInt4Linears(m.Model))
            throw new ArgumentException($"--kernel {kernel.Name()}: {m.Path} is not an INT4 checkpoint (the kernel choice applies to INT4 linears)");
        m.UseKernel(kernel);
        var backend = OpenDevice(parse);
        if (backend.Device == DeviceKind.Cpu) return;
        if (kernel != Int4Kernel.W4A16)
            throw new ArgumentException($"--kernel {kernel.Name()} is a CPU kernel; on --device {parse.GetValue(Device)} the INT4 linears run W4A16");
        m.UseBackend(backend);
    }

    /// <summary>The backend --device names (the CPU one for "cpu").</summary>
    public IComputeBackend OpenDevice(ParseResult parse) => ComputeDevices.Open(parse.GetValue(Device) ?? "cpu");

    private static bool HasInt4Linears(LlamaModel model) =>
        model.Output is Int4Linear || model.Blocks.Any(b => LinearKinds.All.Any(k => b[k] is Int4Linear));

    /// <summary>Applies --classifier; returns what it chose ("int8 classifier"), or null for the stored one.</summary>
    public string? ApplyClassifier(ParseResult parse, AwqModel m)
    {
        var choice = parse.GetValue(Classifier);
        switch (choice?.ToLowerInvariant())
        {
            case null or "stored": return null;
            case "int8": m.UseInt8Classifier(); return "int8 classifier";
            case "int4": m.UseInt4Classifier(); return "int4 g32 classifier";
            default: throw new ArgumentException($"--classifier '{choice}' is not 'stored', 'int8' or 'int4'");
        }
    }
}
