using System.CommandLine;
using System.Text.Json;
using AwqRuntime.Backends;
using AwqRuntime.Native;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq info`: native library version, SIMD paths compiled/detected/used, CUDA, threads.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the information as JSON" };
        var threads = CliOptions.Threads();
        var cmd = new Command("info", "Show the native kernel library: version, SIMD paths, CUDA, threads") { threads, json };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads)); // the thread count shown is the one the other commands would use
            var f = Kernels.Features;
            var cuda = ComputeDevices.List().Where(d => d.Kind == DeviceKind.Cuda).ToList();
            var info = new
            {
                runtime = typeof(Program).Assembly.GetName().Version?.ToString(),
                native_version = Kernels.Version,
                simd_path = Kernels.SimdPath,
                avx2 = new { compiled = f.HasFlag(NativeFeatures.Avx2Compiled), detected = f.HasFlag(NativeFeatures.Avx2Detected) },
                avx512 = new { compiled = f.HasFlag(NativeFeatures.Avx512Compiled), detected = f.HasFlag(NativeFeatures.Avx512Detected) },
                avx512_vnni = f.HasFlag(NativeFeatures.Avx512VnniDetected),
                f16c = f.HasFlag(NativeFeatures.F16cDetected),
                cuda_built = f.HasFlag(NativeFeatures.CudaBuilt),
                cuda_devices = cuda.Count,
                cuda_unavailable = cuda.Count == 0 ? ComputeDevices.CudaUnavailableReason() : null,
                devices = cuda.Select(d => new
                {
                    id = d.Id, name = d.Name, memory_bytes = d.TotalBytes, free_bytes = d.FreeBytes, compute_capability = d.ComputeCapability,
                    multiprocessors = d.Multiprocessors, peak_bandwidth_bytes_per_second = d.PeakBandwidthBytesPerSecond,
                }).ToArray(),
                threads = Kernels.Threads,
                processors = Environment.ProcessorCount,
            };
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }));
                return 0;
            }
            static string Path(bool compiled, bool detected) =>
                $"{(compiled ? "compiled" : "not compiled")}, {(detected ? "detected" : "not detected")}";
            Console.WriteLine($"awq native library {info.native_version}");
            Console.WriteLine($"  SIMD path in use : {info.simd_path}");
            Console.WriteLine($"  AVX2+FMA+F16C    : {Path(info.avx2.compiled, info.avx2.detected)}");
            Console.WriteLine($"  AVX-512 F/BW/VL  : {Path(info.avx512.compiled, info.avx512.detected)}");
            Console.WriteLine($"  AVX-512 VNNI     : {(info.avx512_vnni ? "detected" : "not detected")}");
            Console.WriteLine($"  CUDA             : {(info.cuda_devices > 0 ? $"{info.cuda_devices} device(s)" : $"unavailable: {info.cuda_unavailable}")}");
            foreach (var d in cuda)
                Console.WriteLine(FormattableString.Invariant(
                    $"    {d.Id,-7}: {d.Name}, {d.TotalBytes / 1073741824.0:F1} GiB ({d.FreeBytes / 1073741824.0:F1} free), compute capability {d.ComputeCapability}, {d.Multiprocessors} SMs, {d.PeakBandwidthBytesPerSecond / 1e9:F0} GB/s peak"));
            Console.WriteLine($"  threads          : {info.threads} (of {info.processors} processors)");
            return 0;
        }));
        return cmd;
    }
}
