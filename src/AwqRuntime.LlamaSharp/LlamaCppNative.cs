using LLama.Native;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Loads llama.cpp once per process, with the log callback in place first. LLamaSharp loads its native
/// library lazily from NativeApi's static constructor; entry points that do not pass through it
/// (LLamaQuantizer / llama_model_quantize) fail with DllNotFoundException unless something loaded it
/// before, so every public entry of this project calls <see cref="EnsureLoaded"/> first.
/// </summary>
internal static class LlamaCppNative
{
    private static readonly object Gate = new();
    private static volatile bool _loaded;

    // Kept alive here as well: llama.cpp holds a raw function pointer to it for the process lifetime.
    private static readonly NativeLogConfig.LLamaLogCallback Callback = LlamaCppLog.OnNativeMessage;

    public static void EnsureLoaded()
    {
        if (_loaded) return;
        lock (Gate)
        {
            if (_loaded) return;
            // Registered before the first native call, LLamaSharp installs it while loading, so even the
            // loader's own lines go through it instead of stderr.
            NativeLogConfig.llama_log_set(Callback);
            try
            {
                NativeApi.llama_empty_call();
                LlamaCppNativeMethods.RegisterResolver();
            }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
            {
                throw new LlamaCppException(
                    "the llama.cpp native library (LLamaSharp.Backend.Cpu 0.30.0) could not be loaded: " + e.Message, inner: e);
            }
            _loaded = true;
        }
    }
}
