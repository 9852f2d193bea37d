using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// The few llama.cpp entry points LLamaSharp 0.30.0 binds only internally or with an unusable
/// signature (llama_detokenize and the vocab pointer it needs, llama_chat_builtin_templates), and
/// ggml's block dequantizers, which it does not bind at all. They resolve to the very libllama LLamaSharp loaded: LLamaSharp picks one
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

    /// <summary>ggml's reference dequantizer of one block type (ggml-quants.h dequantize_row_*), in libggml-base beside libllama.</summary>
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q4_0")] internal static partial void dequantize_row_q4_0(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q4_1")] internal static partial void dequantize_row_q4_1(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q5_0")] internal static partial void dequantize_row_q5_0(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q5_1")] internal static partial void dequantize_row_q5_1(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q8_0")] internal static partial void dequantize_row_q8_0(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q4_K")] internal static partial void dequantize_row_q4_K(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q5_K")] internal static partial void dequantize_row_q5_K(byte* x, float* y, long k);
    [LibraryImport(GgmlBase, EntryPoint = "dequantize_row_q6_K")] internal static partial void dequantize_row_q6_K(byte* x, float* y, long k);

    private const string GgmlBase = "ggml-base";

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        string[] files = name switch
        {
            Llama => ["libllama.so", "llama.dll", "libllama.dylib"],
            GgmlBase => ["libggml-base.so", "ggml-base.dll", "libggml-base.dylib"],
            _ => [],
        };
        if (files.Length == 0) return IntPtr.Zero;
        using var process = Process.GetCurrentProcess();
        foreach (ProcessModule module in process.Modules)
        {
            var file = Path.GetFileName(module.FileName);
            if (files.Contains(file) && NativeLibrary.TryLoad(module.FileName, out var handle))
                return handle;
        }
        return IntPtr.Zero; // default probing, which ends in a DllNotFoundException naming the library
    }
}
