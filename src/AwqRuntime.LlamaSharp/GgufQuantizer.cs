using System.Diagnostics;
using System.Runtime.InteropServices;
using LLama.Native;

namespace AwqRuntime.LlamaSharp;

/// <summary>
/// Quantizes a GGUF with llama.cpp's llama_model_quantize (what llama-quantize runs). Unlike
/// LLamaSharp's LLamaQuantizer, this passes per-tensor type overrides, which plain formats need on
/// models whose rows the block size does not divide: llama.cpp has no fallback for Q4_0/Q4_1/Q5_0/
/// Q8_0/IQ4_NL and refuses such a tensor (stories260K's ffn_down rows are 172 wide), while the
/// K-quants fall back tensor by tensor on their own.
/// </summary>
public static class GgufQuantizer
{
    /// <summary>
    /// Writes <paramref name="destinationPath"/> quantized to <paramref name="type"/> (a llama-quantize
    /// name, see <see cref="LlamaFileTypes.Names"/>). <paramref name="tensorTypeOverrides"/> maps a
    /// pattern to a ggml type name ("ffn_down" → "F16"); llama.cpp matches patterns as regular
    /// expressions (std::regex_search) anywhere in the tensor name, first match wins.
    /// <paramref name="quantizeOutputTensor"/> true quantizes output.weight as llama-quantize does (LLamaSharp
    /// defaults to false). <paramref name="threads"/> ≤ 0 means all hardware threads.
    /// <paramref name="importance"/>: an importance matrix (GGUF weight name → mean x² per input column,
    /// <c>ImatrixReader</c>), handed to llama.cpp as llama-quantize --imatrix does.
    /// The file is written under a temporary name and renamed only on success, so a failure never
    /// leaves a partial file; failures are reported in the result, bad argument values throw.
    /// </summary>
    public static GgufQuantizeResult Quantize(
        string sourcePath,
        string destinationPath,
        string type,
        int threads = 0,
        bool quantizeOutputTensor = true,
        IReadOnlyDictionary<string, string>? tensorTypeOverrides = null,
        IReadOnlyDictionary<string, float[]>? importance = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(sourcePath);
        ArgumentException.ThrowIfNullOrEmpty(destinationPath);
        ArgumentException.ThrowIfNullOrEmpty(type);
        if (!LlamaFileTypes.TryParse(type, out var ftype))
            throw new ArgumentException($"unknown quantization type '{type}'; known: {string.Join(", ", LlamaFileTypes.Names)}", nameof(type));
        var overrides = ParseOverrides(tensorTypeOverrides);

        var source = Path.GetFullPath(sourcePath);
        var destination = Path.GetFullPath(destinationPath);
        var clock = Stopwatch.StartNew();
        GgufQuantizeResult Failed(string error, IReadOnlyList<string>? warnings = null) =>
            new(false, source, destination, type, 0, error, warnings ?? [], [], clock.Elapsed);

        if (!File.Exists(source)) return Failed($"source model '{source}' does not exist");
        if (string.Equals(source, destination, StringComparison.Ordinal))
            return Failed("source and destination are the same file");

        LlamaCppNative.EnsureLoaded();
        var directory = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(destination)}.{Guid.NewGuid():N}.partial");

        using var capture = LlamaCppLog.BeginCapture();
        uint status;
        try
        {
            status = Run(source, temporary, ftype, threads, quantizeOutputTensor, overrides, importance);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
        if (status != 0 || !File.Exists(temporary))
        {
            TryDelete(temporary);
            var reason = capture.ErrorsWithContext();
            return Failed(reason.Count > 0
                ? $"llama.cpp could not quantize '{source}' to {type}: {string.Join(" ", reason)}"
                : $"llama.cpp could not quantize '{source}' to {type} (llama_model_quantize returned {status})", capture.Warnings);
        }

        IReadOnlyList<GgufTensorInfo> tensors;
        try
        {
            tensors = GgufTensorTable.Read(temporary);
            File.Move(temporary, destination, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            TryDelete(temporary);
            return Failed($"the quantized output could not be kept as '{destination}': {e.Message}", capture.Warnings);
        }
        return new GgufQuantizeResult(true, source, destination, type, new FileInfo(destination).Length, null,
            capture.Warnings, tensors, clock.Elapsed);
    }

    private static List<(string Pattern, int TypeId)> ParseOverrides(IReadOnlyDictionary<string, string>? overrides)
    {
        var parsed = new List<(string, int)>();
        if (overrides is null) return parsed;
        foreach (var (pattern, typeName) in overrides)
        {
            if (string.IsNullOrEmpty(pattern) || pattern.Contains('\0'))
                throw new ArgumentException("a tensor type override has an empty pattern or one with a NUL character", nameof(overrides));
            if (!GgmlTypeNames.TryParse(typeName, out var id))
                throw new ArgumentException($"tensor type override '{pattern}': unknown ggml type '{typeName}'", nameof(overrides));
            parsed.Add((pattern, id));
        }
        return parsed;
    }

    /// <summary>
    /// One element of llama_model_quantize_params.tt_overrides (llama.h at 815a2a59, the commit LLamaSharp
    /// 0.30.0 binds: struct llama_model_tensor_override { const char * pattern; enum ggml_type type; }),
    /// an array ended by an element whose pattern is NULL. LLamaSharp names the field "tensor_types" (offset 40).
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct TensorTypeOverride
    {
        public IntPtr Pattern;
        public int Type;
    }

    /// <summary>
    /// One element of llama_model_quantize_params.imatrix (llama.h at 815a2a59: struct llama_model_imatrix_data
    /// { const char * name; const float * data; size_t size; }), an array ended by an element whose name is NULL.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ImatrixEntry
    {
        public IntPtr Name;
        public IntPtr Data;
        public nuint Size;
    }

    private static unsafe uint Run(string source, string destination, LLamaFtype ftype, int threads, bool quantizeOutputTensor,
        List<(string Pattern, int TypeId)> overrides, IReadOnlyDictionary<string, float[]>? importance)
    {
        var parameters = LLamaModelQuantizeParams.Default();
        parameters.ftype = ftype;
        parameters.nthread = Math.Max(threads, 0);
        parameters.quantize_output_tensor = quantizeOutputTensor;
        parameters.allow_requantize = false;

        var strings = new List<IntPtr>(overrides.Count);
        var array = IntPtr.Zero;
        var imatrix = IntPtr.Zero;
        var pins = new List<GCHandle>();
        try
        {
            if (importance is { Count: > 0 })
            {
                imatrix = Marshal.AllocHGlobal(sizeof(ImatrixEntry) * (importance.Count + 1));
                var items = (ImatrixEntry*)imatrix;
                var i = 0;
                foreach (var (name, values) in importance)
                {
                    var n = Marshal.StringToCoTaskMemUTF8(name);
                    strings.Add(n);
                    var pin = GCHandle.Alloc(values, GCHandleType.Pinned);
                    pins.Add(pin);
                    items[i++] = new ImatrixEntry { Name = n, Data = pin.AddrOfPinnedObject(), Size = (nuint)values.Length };
                }
                items[i] = default;
                parameters.imatrix = imatrix;
            }
            if (overrides.Count > 0)
            {
                array = Marshal.AllocHGlobal(sizeof(TensorTypeOverride) * (overrides.Count + 1));
                var items = (TensorTypeOverride*)array;
                for (var i = 0; i < overrides.Count; i++)
                {
                    var pattern = Marshal.StringToCoTaskMemUTF8(overrides[i].Pattern);
                    strings.Add(pattern);
                    items[i] = new TensorTypeOverride { Pattern = pattern, Type = overrides[i].TypeId };
                }
                items[overrides.Count] = default;
                parameters.tensor_types = array;
            }
            return NativeApi.llama_model_quantize(source, destination, ref parameters);
        }
        finally
        {
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);
            foreach (var p in pins) p.Free();
            if (array != IntPtr.Zero) Marshal.FreeHGlobal(array);
            if (imatrix != IntPtr.Zero) Marshal.FreeHGlobal(imatrix);
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort: nothing more to do */ }
    }
}
