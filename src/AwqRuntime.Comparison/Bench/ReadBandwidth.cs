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
        var n = bytes / sizeof(float) / threads / (4 * Vector<float>.Count) * (4 * Vector<float>.Count) * threads;
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)Math.Min(n, Array.MaxLength)));
        n = buffer.Length / threads / (4 * Vector<float>.Count) * (4 * Vector<float>.Count) * threads;
        Array.Fill(buffer, 1f); // first touch: every page mapped before anything is timed
        var slice = n / threads;
        var best = double.MaxValue;
        var sink = 0f;
        using var start = new Barrier(threads + 1);
        using var done = new Barrier(threads + 1);
        var sums = new float[threads];
        var passIndex = 0;
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            for (var p = 0; p <= passes; p++)
            {
                start.SignalAndWait();
                sums[t] += Sum(buffer.AsSpan((int)(t * slice), (int)slice));
                done.SignalAndWait();
            }
        }) { IsBackground = true, Name = $"bandwidth {t}" }).ToArray();
        foreach (var w in workers) w.Start();
        for (passIndex = 0; passIndex <= passes; passIndex++)
        {
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            done.SignalAndWait();
            var s = clock.Elapsed.TotalSeconds;
            if (passIndex > 0) best = Math.Min(best, s); // pass 0 warms caches, TLB and the threads
        }
        foreach (var w in workers) w.Join();
        foreach (var s in sums) sink += s;
        GC.KeepAlive(sink);
        return n * (double)sizeof(float) / best;
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
