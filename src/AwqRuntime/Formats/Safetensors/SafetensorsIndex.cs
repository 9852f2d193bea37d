using System.Text.Encodings.Web;
using System.Text.Json;

namespace AwqRuntime.Formats.Safetensors;

/// <summary>
/// model.safetensors.index.json of a sharded checkpoint (transformers' save_pretrained /
/// huggingface_hub split_torch_state_dict_into_shards): {"metadata": {"total_size": bytes},
/// "weight_map": {tensor name: shard file name}}.
/// </summary>
public sealed record SafetensorsIndex(IReadOnlyDictionary<string, string> WeightMap, long? TotalSize)
{
    public const string FileName = "model.safetensors.index.json";

    /// <summary>Reads and validates an index: a JSON object whose weight_map maps names to plain file names (no folders, no "..").</summary>
    public static SafetensorsIndex Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: file not found", path);
        InvalidDataException Bad(string problem) => new($"{path}: safetensors index: {problem}");
        using (var doc = StrictJson.Parse(File.ReadAllBytes(path), path, context: "safetensors index: "))
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Bad("not a JSON object");
            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw Bad("has no \"weight_map\" object");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw Bad($"weight_map entry '{p.Name}' is not a file name string");
                var file = p.Value.GetString()!;
                if (!IsPlainFileName(file)) throw Bad($"weight_map entry '{p.Name}' names '{file}', which is not a plain file name in the same folder");
                if (!weightMap.TryAdd(p.Name, file)) throw Bad($"tensor '{p.Name}' appears twice in weight_map");
            }
            if (weightMap.Count == 0) throw Bad("weight_map is empty");
            long? total = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind == JsonValueKind.Object &&
                meta.TryGetProperty("total_size", out var ts) && ts.ValueKind == JsonValueKind.Number)
            {
                // Some writers store it as a float; it is informational, so only a sane value is kept.
                if (ts.TryGetInt64(out var l) && l >= 0) total = l;
                else if (ts.TryGetDouble(out var d) && d >= 0 && d < 9e18) total = (long)d;
            }
            return new SafetensorsIndex(weightMap, total);
        }
    }

    /// <summary>Writes the index (keys sorted, as transformers writes them) through a temp file + rename.</summary>
    public void Write(string path)
    {
        var temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            {
                w.WriteStartObject();
                w.WriteStartObject("metadata");
                if (TotalSize.HasValue) w.WriteNumber("total_size", TotalSize.Value);
                w.WriteEndObject();
                w.WriteStartObject("weight_map");
                foreach (var (k, v) in WeightMap.OrderBy(kv => kv.Key, StringComparer.Ordinal)) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    internal static bool IsPlainFileName(string name) =>
        name.Length > 0 && name != "." && name != ".." && name.IndexOfAny(['/', '\\', '\0']) < 0 && !System.IO.Path.IsPathRooted(name);
}
