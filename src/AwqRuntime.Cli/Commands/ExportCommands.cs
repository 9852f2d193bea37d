using AwqRuntime.Synthetic;
using System.CommandLine;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq export-gguf` and `awq export-hf`: any loadable model to llama.cpp's or Hugging Face's format.</summary>
internal static class ExportCommands
{
    public static Command ExportGguf()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var output = new Option<string>("--out", "-o") { Description = "Output .gguf file", Required = true };
        var type = new Option<string>("--type")
        {
            Description = "Tensor type: f32, f16 or q8_0 (written here; norms stay f32); q4_1 of an INT4 (AWQ/RTN) checkpoint writes its own weights as Q4_1 blocks without re-rounding, q4_k as Q4_K under 6-bit sub-block scales (the change is reported); any other llama-quantize type (q4_0, q4_k_m, …: F32 export, then llama.cpp's quantizer)",
            DefaultValueFactory = _ => "f32",
        };
        var json = CliOptions.Json();
        var force = new Option<bool>("--force") { Description = "Replace the output file if it exists" };
        var threads = CliOptions.Threads();
        var allowNonFinite = CliOptions.AllowNonFinite();
        var imatrix = new Option<string?>("--imatrix")
        {
            Description = "With a llama-quantize type: an importance matrix (GGUF imatrix, e.g. from `awq calibrate --imatrix`) for llama.cpp's quantizer, as llama-quantize --imatrix",
        };
        var cmd = new Command("export-gguf", "Write a GGUF file that llama.cpp loads (weights + tokenizer)") { model, tokenizer, output, type, imatrix, force, threads, allowNonFinite, json };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            var name = parse.GetValue(type)!.ToLowerInvariant();
            GgufExportType? exportType = name switch
            {
                "f32" => GgufExportType.F32,
                "f16" => GgufExportType.F16,
                "q8_0" => GgufExportType.Q8_0,
                _ => null,
            };
            if (exportType == null && name != "q4_k" && !AwqRuntime.LlamaSharp.LlamaFileTypes.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"--type '{name}' is not f32, f16, q8_0 or a llama-quantize type ({string.Join(", ", AwqRuntime.LlamaSharp.LlamaFileTypes.Names)})");
            var path = parse.GetValue(output)!;
            // One rule with quantize and export-hf: an existing output is replaced only with --force.
            if (Directory.Exists(path)) throw new IOException($"{path}: a folder is in the way of the output file");
            if (File.Exists(path) && !parse.GetValue(force)) throw new IOException($"{path}: file exists (use --force to replace it)");
            using var m = AwqModel.Load(parse.GetValue(model)!, parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
            // An INT4 checkpoint's groups are Q4_1 blocks already: write them as they are instead of
            // letting llama.cpp round the dequantized weights again.
            if (name == "q4_1" && m.IsInt4) exportType = GgufExportType.Q4_1;
            if (name == "q4_k" && m.IsInt4) exportType = GgufExportType.Q4_K;
            else if (name == "q4_k") throw new ArgumentException("--type q4_k writes an INT4 checkpoint's own weights; for a full-precision model use llama.cpp's q4_k_s or q4_k_m");
            if (exportType != null && parse.GetValue(imatrix) != null)
                throw new ArgumentException($"--imatrix goes to llama.cpp's quantizer: it applies to llama-quantize types (q4_0, q4_k_m, iq4_nl, …), not to --type {name}, which AwqRuntime writes itself");
            var changes = new List<(string Tensor, double Change)>();
            if (exportType is { } t) WriteGguf(m, path, t, (tensor, change) => changes.Add((tensor, change)));
            else QuantizeWithLlamaCpp(m, path, name, threads: parse.GetValue(threads),
                importance: parse.GetValue(imatrix) is { } im ? AwqRuntime.Formats.Gguf.ImatrixReader.Read(im) : null);
            var label = exportType switch
            {
                GgufExportType.Q4_1 => "Q4_1 (the checkpoint's own INT4 weights)",
                GgufExportType.Q4_K => "Q4_K (the checkpoint's INT4 weights under 6-bit sub-block scales)",
                _ => exportType?.ToString() ?? name.ToUpperInvariant(),
            };
            double? mean = changes.Count > 0 ? changes.Average(c => c.Change) : null;
            var worst = changes.Count > 0 ? changes.MaxBy(c => c.Change) : default;
            if (parse.GetValue(json))
                CliOptions.PrintJson(new { output = Path.GetFullPath(path), type = label, bytes = new FileInfo(path).Length, rerounded_tensors = changes.Count, mean_relative_rms_change = mean });
            else
            {
                Console.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes, {label})");
                if (mean is { } avg)
                    Console.WriteLine($"re-rounded {changes.Count} linears to Q4_K: RMS change {avg:P2} of the weights on average, {worst.Change:P2} at most ({worst.Tensor})");
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>
    /// llama.cpp's own quantizer over an F32 export (a temporary sibling of <paramref name="path"/>), as
    /// `awq compare` builds its baselines; with <paramref name="fallbackPlan"/>, rows llama.cpp's block
    /// formats cannot split get compare's types (<see cref="AwqRuntime.Comparison.GgufFallbackPlan"/>).
    /// </summary>
    /// <param name="threads">llama.cpp's quantizer threads (0: all processors).</param>
    /// <param name="importance">An importance matrix for llama.cpp's quantizer (<see cref="AwqRuntime.Formats.Gguf.ImatrixReader"/>).</param>
    internal static void QuantizeWithLlamaCpp(AwqModel m, string path, string type, bool fallbackPlan = false, int threads = 0,
        IReadOnlyDictionary<string, float[]>? importance = null)
    {
        var f32 = $"{path}.f32-{Guid.NewGuid():N}.tmp";
        try
        {
            WriteGguf(m, f32, GgufExportType.F32);
            var overrides = fallbackPlan
                ? AwqRuntime.Comparison.GgufFallbackPlan.Overrides(AwqRuntime.LlamaSharp.GgufTensorTable.Read(f32), type)
                : null;
            var r = AwqRuntime.LlamaSharp.GgufQuantizer.Quantize(f32, path, type, threads, quantizeOutputTensor: true, overrides, importance);
            if (!r.Success) throw new InvalidOperationException($"llama.cpp could not quantize to {type}: {r.Error}");
        }
        finally
        {
            if (File.Exists(f32)) File.Delete(f32);
        }
    }

    /// <summary>The model's weights as they stand (INT4 linears dequantized) plus its tokenizer, as GGUF.</summary>
    internal static void WriteGguf(AwqModel m, string path, GgufExportType type, Action<string, double>? rerounded = null)
    {
        var meta = GgufTokenizerWriter.ToMetadata(m.Tokenizer.Spec);
        if (m.IsQuantized)
        {
            using var src = new ModelWeightSource(m.Model, m.Path);
            GgufModelExporter.Export(src, path, type, meta, Path.GetFileNameWithoutExtension(m.Path.TrimEnd('/')), rerounded);
        }
        else GgufModelExporter.Export(m.Source, path, type, meta, Path.GetFileNameWithoutExtension(m.Path.TrimEnd('/')));
    }

    public static Command ExportHf()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var output = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "f32, f16 or bf16", DefaultValueFactory = _ => "f32" };
        var force = new Option<bool>("--force") { Description = "Replace an existing output folder" };
        var json = CliOptions.Json();
        var threads = CliOptions.Threads();
        var allowNonFinite = CliOptions.AllowNonFinite();
        var cmd = new Command("export-hf", "Write a Hugging Face folder of the model's family (safetensors, config.json, tokenizer.json)")
        {
            model, tokenizer, output, dtype, force, threads, allowNonFinite, json,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            var t = parse.GetValue(dtype)?.ToLowerInvariant() switch
            {
                "f32" => TensorDType.F32,
                "f16" => TensorDType.F16,
                "bf16" => TensorDType.BF16,
                var other => throw new ArgumentException($"--dtype '{other}' is not f32, f16 or bf16"),
            };
            var dir = parse.GetValue(output)!;
            using var m = AwqModel.Load(parse.GetValue(model)!, parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
            var options = new HfWriteOptions { Overwrite = parse.GetValue(force), AddFiles = m.WriteTokenizerFiles };
            if (m.IsQuantized)
            {
                using var src = new ModelWeightSource(m.Model, m.Path);
                HfCheckpointWriter.Write(src, dir, t, options);
            }
            else HfCheckpointWriter.Write(m.Source, dir, t, options);
            if (parse.GetValue(json)) CliOptions.PrintJson(new { output = Path.GetFullPath(dir), dtype = t.ToString() });
            else Console.WriteLine($"wrote {dir} ({t})");
            return 0;
        }));
        return cmd;
    }

    public static Command Synth()
    {
        var preset = new Option<string>("--preset") { Description = $"One of: {string.Join(", ", SyntheticModel.Presets)}", DefaultValueFactory = _ => "tiny" };
        var output = new Option<string>("--out", "-o") { Description = "Output folder", Required = true };
        var layers = new Option<int?>("--layers") { Description = "Override the preset's layer count" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 1UL };
        var dtype = new Option<string>("--dtype") { Description = "f16 or f32", DefaultValueFactory = _ => "f16" };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "Tokenizer to ship with the model (default inside this repo: ../shared/models/llama2-tokenizer/tokenizer.model)",
        };
        var force = new Option<bool>("--force") { Description = "Replace an existing output folder" };
        var json = CliOptions.Json();
        var threads = CliOptions.Threads();
        var cmd = new Command("synth", "Write a synthetic LLaMA-family model (random weights, real shapes, HF layout) for tests and benchmarks")
        {
            preset, output, layers, seed, dtype, tokenizer, force, threads, json,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            var tokPath = parse.GetValue(tokenizer) ?? RepoPaths.Shared("models", "llama2-tokenizer", "tokenizer.model")
                ?? throw new ArgumentException("--tokenizer is required outside this repository");
            var spec = TokenizerFiles.Read(tokPath);
            var options = new SyntheticModelOptions
            {
                Preset = parse.GetValue(preset)!, NumLayers = parse.GetValue(layers), Seed = parse.GetValue(seed), VocabSize = spec.VocabSize,
                DType = parse.GetValue(dtype)?.ToLowerInvariant() switch
                {
                    "f16" => TensorDType.F16,
                    "f32" => TensorDType.F32,
                    var other => throw new ArgumentException($"--dtype '{other}' is not f16 or f32"),
                },
            };
            var dir = parse.GetValue(output)!;
            SyntheticModel.WriteHf(dir, options, new HfWriteOptions
            {
                Overwrite = parse.GetValue(force),
                AddFiles = tmp => HfTokenizerWriter.Write(spec, tmp),
            });
            var cfg = SyntheticModel.PresetConfig(options.Preset, spec.VocabSize, options.NumLayers);
            if (parse.GetValue(json))
                CliOptions.PrintJson(new { output = Path.GetFullPath(dir), preset = options.Preset, layers = cfg.NumLayers, parameters = LlamaWeightShapes.ParameterCount(cfg) });
            else Console.WriteLine($"wrote {dir}: {options.Preset}, {cfg.NumLayers} layers, {LlamaWeightShapes.ParameterCount(cfg):N0} parameters");
            return 0;
        }));
        return cmd;
    }
}
