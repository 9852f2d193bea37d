using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>
/// Safe, span-based entry points to the native kernels. The native side validates every argument it
/// can see and names the function and argument in its error; the wrappers add only what it cannot
/// see: span lengths. One partial file per kernel family.
/// </summary>
public static unsafe partial class Kernels
{
    /// <summary>Version of the native library ("0.1.0").</summary>
    public static string Version => Marshal.PtrToStringUTF8(NativeMethods.awq_version()) ?? "";

    public static NativeFeatures Features => (NativeFeatures)NativeMethods.awq_features();

    /// <summary>The SIMD path in use: "avx512", "avx2" or "scalar" (capped by AWQ_SIMD).</summary>
    public static string SimdPath => Marshal.PtrToStringUTF8(NativeMethods.awq_simd_path()) ?? "";

    /// <summary>Worker threads used by the parallel kernels.</summary>
    public static int Threads
    {
        get => NativeMethods.awq_get_num_threads();
        set => NativeMethods.Check(NativeMethods.awq_set_num_threads(value), "awq_set_num_threads");
    }

    /// <summary>The calling thread's last native error message (awq_last_error), for tests and diagnostics.</summary>
    internal static string LastError => Marshal.PtrToStringUTF8(NativeMethods.awq_last_error()) ?? "";

    public static string StatusName(int status) =>
        Marshal.PtrToStringUTF8(NativeMethods.awq_status_name(status)) ?? "";

    /// <summary>Throws when a span is shorter than the shape requires (the native side cannot see span lengths).</summary>
    internal static void RequireLength<T>(ReadOnlySpan<T> span, long needed, string function, string argument)
    {
        if (span.Length < needed)
            throw new ArgumentException(
                $"{function}: argument '{argument}' has {span.Length} elements, needs {needed}", argument);
    }

    internal static void RequireLength<T>(Span<T> span, long needed, string function, string argument) =>
        RequireLength((ReadOnlySpan<T>)span, needed, function, argument);
}
