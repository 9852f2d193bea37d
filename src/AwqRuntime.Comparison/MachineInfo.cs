using System.Runtime.InteropServices;

namespace AwqRuntime.Comparison;

/// <summary>The machine a report was measured on: CPU model, logical cores, memory, OS, .NET and our SIMD path.</summary>
public sealed record MachineInfo(string Cpu, int LogicalCores, long? MemoryBytes, string Os, string DotNet, string OursSimdPath)
{
    public static MachineInfo Collect() => new(
        CpuModel() ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        MemoryTotal(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        Native.Kernels.SimdPath);

    public override string ToString() =>
        $"{Cpu}, {LogicalCores} logical cores" + (MemoryBytes is { } m ? $", {m / (1024.0 * 1024 * 1024):F1} GiB" : "") + $", {Os}, {DotNet}";

    /// <summary>
    /// The 1-minute load average (Linux /proc/loadavg), taken when speed is measured: on a shared
    /// machine a load above the core count means the timings competed with other work.
    /// </summary>
    public static double? LoadAverage()
    {
        try
        {
            if (!File.Exists("/proc/loadavg")) return null;
            var first = File.ReadAllText("/proc/loadavg").Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return double.TryParse(first, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>"model name" from /proc/cpuinfo (Linux); null elsewhere.</summary>
    internal static string? CpuModel() => ProcInfo("/proc/cpuinfo", "model name");

    private static long? MemoryTotal()
    {
        // "MemTotal:       24589384 kB"
        var v = ProcInfo("/proc/meminfo", "MemTotal");
        if (v == null) return null;
        var parts = v.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 1 && long.TryParse(parts[0], out var kb) ? kb * 1024 : null;
    }

    private static string? ProcInfo(string file, string key)
    {
        try
        {
            if (!File.Exists(file)) return null;
            foreach (var line in File.ReadLines(file))
            {
                var colon = line.IndexOf(':');
                if (colon > 0 && line[..colon].Trim() == key) return line[(colon + 1)..].Trim();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Provenance is best effort: a report without the CPU name is still a report.
        }
        return null;
    }
}
