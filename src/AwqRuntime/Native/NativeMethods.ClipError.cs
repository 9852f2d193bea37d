using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>Bindings of the "AWQ's clip search" section of awq_kernels.h.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)]
    internal static partial int awq_clip_error(float* x, long m, long k, float* d, long n, long groupSize, double* err);
}
