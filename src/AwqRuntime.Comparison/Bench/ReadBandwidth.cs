using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace AwqRuntime.Comparison.Bench;

/// <summary>
/// This machine's memory read bandwidth with a given number of threads, the ceiling of a decode step
/// that streams every weight once (STREAM's idea, McCalpin 1995, as a read-only sum): each thread sums
/// its own contiguous slice of a buffer far larger than the caches with SIMD adds into four
/// independent accumulators; the best of several passes counts. Pages are touched before timing.
/// </summary>
public static class ReadBandwidth
{
    /// <summary>Bytes per second read by <paramref name="threads"/> threads over a <paramref name="bytes"/>-byte buffer.</summary>
    public static double Measure(int threads, long bytes = 1L << 30, int passes = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(passes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 1L << 20);
        var step = 4 * Vector<float>.Count; // Sum's unrolled stride
        var buffer = GC.AllocateUninitializedArray<float>((int)Math.Min(bytes / sizeof(float), Array.MaxLength));
        var slice = buffer.Length / threads / step * step; // each thread's share, in whole strides
        Array.Fill(buffer, 1f); // first touch: every page mapped before anything is timed
        var best = double.MaxValue;
        using var start = new Barrier(threads + 1);
        using var done = new Barrier(threads + 1);
        var sums = new float[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (var p = 0; p <= passes; p++)
            {
                start.SignalAndWait();
                sums[t] += Sum(buffer.AsSpan(t * slice, slice));
                done.SignalAndWait();
            }
        }) { IsBackground = true, Name = $"bandwidth {t}" }).ToArray();
        foreach (var w in workers) w.Start();
        for (var pass = 0; pass <= passes; pass++)
        {
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            done.SignalAndWait();
            if (pass > 0) best = Math.Min(best, clock.Elapsed.TotalSeconds); // pass 0 warms caches, TLB and the threads
        }
        foreach (var w in workers) w.Join();
        GC.KeepAlive(sums.Sum()); // the sums are the work being timed
        return (double)slice * threads * sizeof(float) / best;
    }

    private static float Sum(ReadOnlySpan<float> x)
    {
        var v = MemoryMarshal.Cast<float, Vector<float>>(x);
        Vector<float> a = default, b = default, c = default, d = default;
        for (var i = 0; i + 3 < v.Length; i += 4)
        {
            a += v[i];
            b += v[i + 1];
            c += v[i + 2];
            d += v[i + 3];
        }
        return Vector.Sum(a + b + c + d);
    }
}
