using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// The few llama.cpp entry points LLamaSharp 0.30.0 binds only internally or with an unusable
/// signature (llama_detokenize and the vocab pointer it needs, llama_chat_builtin_templates). They resolve to the very libllama LLamaSharp loaded: LLamaSharp picks one
/// of several CPU variants (noavx/avx/avx2/avx512) from its runtimes folder, so the name alone would
/// not find it; the resolver looks the loaded module up in the process instead.
/// </summary>
internal static unsafe partial class LlamaCppNativeMethods
{
    private const string Llama = "llama";

    [LibraryImport(Llama)]
    internal static partial IntPtr llama_model_get_vocab(IntPtr model);

    /// <summary>Returns the bytes written, or minus the bytes needed when <paramref name="textLengthMax"/> is too small.</summary>
    [LibraryImport(Llama)]
    internal static partial int llama_detokenize(IntPtr vocab, int* tokens, int tokenCount, byte* text, int textLengthMax,
        [MarshalAs(UnmanagedType.U1)] bool removeSpecial, [MarshalAs(UnmanagedType.U1)] bool unparseSpecial);

    /// <summary>
    /// Names of llama.cpp's built-in chat formats (llama.h llama_chat_builtin_templates): fills up to
    /// <paramref name="length"/> pointers and returns how many there are.
    /// </summary>
    [LibraryImport(Llama)]
    internal static partial int llama_chat_builtin_templates(byte** output, nuint length);

    /// <summary>Called once, after LLamaSharp has loaded libllama.</summary>
    internal static void RegisterResolver() =>
        NativeLibrary.SetDllImportResolver(typeof(LlamaCppNativeMethods).Assembly, Resolve);

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Llama) return IntPtr.Zero;
        using var process = Process.GetCurrentProcess();
        foreach (ProcessModule module in process.Modules)
        {
            var file = Path.GetFileName(module.FileName);
            if (file is "libllama.so" or "llama.dll" or "libllama.dylib" && NativeLibrary.TryLoad(module.FileName, out var handle))
                return handle;
        }
        return IntPtr.Zero; // default probing, which ends in a DllNotFoundException naming "llama"
    }
}
