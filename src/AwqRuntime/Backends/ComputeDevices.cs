using System.Runtime.InteropServices;
using AwqRuntime.Native;

namespace AwqRuntime.Backends;

/// <summary>One device as awq_device_info reports it.</summary>
/// <param name="TotalBytes">Memory (-1 where the library does not know: the host).</param>
/// <param name="ComputeCapability">"9.0"; empty for the CPU.</param>
/// <param name="PeakBandwidthBytesPerSecond">The memory's theoretical peak (memory clock × bus width; CUDA), 0 when unknown.</param>
public sealed record ComputeDevice(DeviceKind Kind, int Ordinal, string Name, long TotalBytes, long FreeBytes, string ComputeCapability, int Multiprocessors,
    long PeakBandwidthBytesPerSecond)
{
    /// <summary>"cpu", "cuda:0": what --device takes.</summary>
    public string Id => Kind == DeviceKind.Cpu ? "cpu" : $"cuda:{Ordinal}";
}

/// <summary>The devices this build can run on, and the backend a --device choice names.</summary>
public static unsafe class ComputeDevices
{
    /// <summary>True when the CUDA kernels (libawq_kernels_cuda.so) load; devices may still be absent.</summary>
    public static bool CudaKernelsLoaded => Kernels.Features.HasFlag(NativeFeatures.CudaBuilt);

    public static int Count(DeviceKind kind)
    {
        int n;
        NativeMethods.Check(NativeMethods.awq_device_count((int)kind, &n), "awq_device_count");
        return n;
    }

    public static ComputeDevice Info(DeviceKind kind, int ordinal)
    {
        DeviceProps p;
        NativeMethods.Check(NativeMethods.awq_device_info((int)kind, ordinal, &p), "awq_device_info");
        var name = Marshal.PtrToStringUTF8((IntPtr)p.Name) ?? "";
        return new ComputeDevice(kind, ordinal, name, p.TotalBytes, p.FreeBytes, kind == DeviceKind.Cpu ? "" : $"{p.CcMajor}.{p.CcMinor}", p.Multiprocessors,
            p.PeakBandwidth);
    }

    /// <summary>The host, then every CUDA device.</summary>
    public static IReadOnlyList<ComputeDevice> List()
    {
        var all = new List<ComputeDevice> { Info(DeviceKind.Cpu, 0) };
        for (var i = 0; i < Count(DeviceKind.Cuda); i++) all.Add(Info(DeviceKind.Cuda, i));
        return all;
    }

    /// <summary>Why a CUDA device cannot be used here, or null when device 0 can.</summary>
    public static string? CudaUnavailableReason()
    {
        if (Count(DeviceKind.Cuda) > 0) return null;
        IntPtr ctx;
        var st = NativeMethods.awq_context_create((int)DeviceKind.Cuda, 0, &ctx);
        if (st == 0)
        {
            NativeMethods.awq_context_free(ctx);
            return null;
        }
        return StripFunction(Marshal.PtrToStringUTF8(NativeMethods.awq_last_error()) ?? "no CUDA device");
    }

    /// <summary>
    /// The backend of a --device value: "cpu" (the CPU kernels over host arrays), "cuda" or "cuda:N".
    /// A CUDA device this machine lacks is an <see cref="ArgumentException"/> saying why (no plugin, no device).
    /// </summary>
    public static IComputeBackend Open(string device)
    {
        var d = device.Trim().ToLowerInvariant();
        if (d == "cpu") return CpuBackend.Instance;
        var ordinal = 0;
        if (d != "cuda" && !(d.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(d.AsSpan(5), out ordinal) && ordinal >= 0))
            throw new ArgumentException($"--device '{device}' is not 'cpu', 'cuda' or 'cuda:N'");
        try
        {
            return DeviceBackend.Open(DeviceKind.Cuda, ordinal);
        }
        catch (NativeKernelException e)
        {
            throw new ArgumentException($"--device {device}: {StripFunction(e.Message)}", e);
        }
    }

    private static string StripFunction(string message)
    {
        var i = message.IndexOf(": ", StringComparison.Ordinal);
        var s = i >= 0 && message.StartsWith("awq_", StringComparison.Ordinal) ? message[(i + 2)..] : message;
        var j = s.LastIndexOf(" [", StringComparison.Ordinal);
        return j > 0 ? s[..j] : s;
    }
}
