using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>
/// Raw [LibraryImport] bindings of awq_kernels.h, one partial file per header section. Blittable
/// signatures only (pointers, integers, floats); the safe span-based wrappers live in <see cref="Kernels"/>.
/// </summary>
internal static unsafe partial class NativeMethods
{
    private const string Lib = NativeLibraryResolver.LibraryName;

    [LibraryImport(Lib)] internal static partial IntPtr awq_status_name(int status);
    [LibraryImport(Lib)] internal static partial IntPtr awq_last_error();
    [LibraryImport(Lib)] internal static partial IntPtr awq_version();
    [LibraryImport(Lib)] internal static partial uint awq_features();
    [LibraryImport(Lib)] internal static partial IntPtr awq_simd_path();
    [LibraryImport(Lib)] internal static partial int awq_set_num_threads(int nThreads);
    [LibraryImport(Lib)] internal static partial int awq_get_num_threads();
}
