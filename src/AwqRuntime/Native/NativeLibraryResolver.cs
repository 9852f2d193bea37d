using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>
/// Finds libawq_kernels beside this assembly (where the build copies it) before falling back to
/// the normal search path, so neither LD_LIBRARY_PATH nor a manual install step is needed.
/// </summary>
internal static class NativeLibraryResolver
{
    internal const string LibraryName = "awq_kernels";

    // A module initializer in a library is what CA2255 warns about; here it is the point: the
    // resolver must be in place before any generated P/Invoke stub of this assembly first runs.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != LibraryName) return IntPtr.Zero;
        var dir = Path.GetDirectoryName(assembly.Location);
        if (!string.IsNullOrEmpty(dir))
        {
            foreach (var file in new[] { "libawq_kernels.so", "awq_kernels.dll", "libawq_kernels.dylib" })
            {
                var candidate = Path.Combine(dir, file);
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle)) return handle;
            }
        }
        return NativeLibrary.TryLoad(name, assembly, searchPath, out var fallback) ? fallback : IntPtr.Zero;
    }
}
