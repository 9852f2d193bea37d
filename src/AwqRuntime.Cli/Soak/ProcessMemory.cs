using System.Diagnostics;
using System.Globalization;

namespace AwqRuntime.Cli.Soak;

/// <summary>
/// This process's memory: the resident set size, VmRSS in /proc/self/status (proc(5)), or the working
/// set where there is no /proc; the memory the GC has committed for the managed heap as of its last
/// collection (RSS less this is native memory, code and stacks); and the managed heap after a full,
/// compacting collection, for readings that garbage not yet collected does not blur.
/// </summary>
internal static class ProcessMemory
{
    public static long RssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024; // "VmRSS:  123456 kB"
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        using var self = Process.GetCurrentProcess();
        return self.WorkingSet64;
    }

    public static long GcCommittedBytes() => GC.GetGCMemoryInfo().TotalCommittedBytes;

    /// <summary>Collects everything collectable (finalizers included), then returns the managed heap's size.</summary>
    public static long ManagedBytesAfterFullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
