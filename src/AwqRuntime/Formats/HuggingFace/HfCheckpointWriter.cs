using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;

namespace AwqRuntime.Formats.HuggingFace;

/// <summary>Options of <see cref="HfCheckpointWriter.Write"/>.</summary>
public sealed record HfWriteOptions
{
    /// <summary>Shard limit in bytes of tensor data (save_pretrained's max_shard_size "5GB").</summary>
    public long MaxShardBytes { get; init; } = ShardedSafetensorsWriter.DefaultMaxShardBytes;

    /// <summary>Replace an existing non-empty folder (it is swapped out only after the new one is complete).</summary>
    public bool Overwrite { get; init; }

    /// <summary>eos ids for config.json / generation_config.json when there are several (else Config.EosTokenId).</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>Called with the temporary folder before it is renamed into place: write tokenizer files here.</summary>
    public Action<string>? AddFiles { get; init; }
}

/// <summary>
/// Writes any <see cref="IWeightSource"/> as a Hugging Face folder that transformers' from_pretrained
/// loads as the config's family (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM): config.json, generation_config.json and model.safetensors
/// (sharded with an index above the shard limit), every tensor in one dtype (F32, F16 or BF16, the
/// config's torch_dtype) as save_pretrained does. q_proj/k_proj rows (and biases) are permuted from the canonical
/// interleaved layout to HF's rotate_half layout. A tied model omits lm_head.weight. Tensors are
/// streamed one at a time into a temporary sibling folder, which is renamed onto the target only when
/// complete. Tokenizer files are not written here (see <see cref="HfWriteOptions.AddFiles"/>).
/// </summary>
public static class HfCheckpointWriter
{
    public static void Write(IWeightSource src, string folder, TensorDType dtype = TensorDType.F16, HfWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(src);
        options ??= new HfWriteOptions();
        var torchDtype = HfModelConfig.TorchDtypeName(dtype);
        var c = src.Config;
        var target = Path.GetFullPath(folder.TrimEnd('/', '\\'));
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !options.Overwrite)
            throw new IOException($"{target}: folder exists and is not empty (use --force to replace it)");
        if (File.Exists(target)) throw new IOException($"{target}: a file is in the way of the output folder");

        var specs = LlamaWeightShapes.Expected(c)
            .Where(t => !(c.TieWordEmbeddings && t.Name == LlamaTensorNames.Output))
            .Select(t => new SafetensorsTensorSpec(t.Name, dtype, t.Shape))
            .ToList();
        foreach (var s in specs)
        {
            if (!src.Contains(s.Name)) throw new InvalidDataException($"{src.Path}: tensor '{s.Name}' is not available as fp32 (quantized?); cannot write it");
            if (!src.Info(s.Name).Shape.SequenceEqual(s.Shape))
                throw new InvalidDataException($"{src.Path}: tensor '{s.Name}' has shape {LlamaWeightShapes.Format(src.Info(s.Name).Shape)}, config implies {LlamaWeightShapes.Format(s.Shape)}");
        }

        var temp = $"{target}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(temp);
        try
        {
            var cfg = new HfModelConfig { Llama = c, TorchDtype = torchDtype, EosTokenIds = options.EosTokenIds ?? [c.EosTokenId] };
            cfg.Write(Path.Combine(temp, HfModelConfig.FileName));
            cfg.WriteGenerationConfig(Path.Combine(temp, HfModelConfig.GenerationFileName));
            using (var writer = new ShardedSafetensorsWriter(temp, specs, options.MaxShardBytes, new Dictionary<string, string> { ["format"] = "pt" }))
            {
                foreach (var s in specs)
                {
                    var data = src.ReadFloat32(s.Name);
                    if (LlamaTensorNames.IsRotary(s.Name, out var kind)) data = RopePermutation.InterleavedToHf(data, c, kind, s.Shape);
                    if (dtype == TensorDType.F16) TensorConversion.CheckFp16Range(src.Path, s.Name, data);
                    writer.Write(s.Name, data);
                }
                writer.Commit();
            }
            options.AddFiles?.Invoke(temp);
            ReplaceFolder(temp, target);
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    /// <summary>Moves a finished folder onto <paramref name="target"/>, swapping any old one out first.</summary>
    internal static void ReplaceFolder(string finished, string target)
    {
        if (!Directory.Exists(target))
        {
            Directory.Move(finished, target);
            return;
        }
        var old = $"{target}.old-{Guid.NewGuid():N}";
        Directory.Move(target, old);
        try
        {
            Directory.Move(finished, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }
        Directory.Delete(old, recursive: true);
    }
}
