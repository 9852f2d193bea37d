namespace AwqRuntime.Formats.Safetensors;

/// <summary>
/// All tensors of a checkpoint stored as one safetensors file or as shards listed by
/// model.safetensors.index.json, looked up by stored name. The index must agree with the shards:
/// every listed tensor is in the shard it names and every shard tensor is listed, so a stale or
/// mixed-up index fails on open rather than loading the wrong weights.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    private readonly List<SafetensorsFile> _files = [];
    private readonly Dictionary<string, (SafetensorsTensorInfo Info, SafetensorsFile File)> _byName = new(StringComparer.Ordinal);
    private readonly List<SafetensorsTensorInfo> _tensors = [];

    private SafetensorsCheckpoint(string path) => Path = path;

    /// <summary>The index file or the single safetensors file this was opened from.</summary>
    public string Path { get; }

    public IReadOnlyList<SafetensorsFile> Files => _files;

    /// <summary>Every tensor, shard by shard in data order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => _tensors;

    /// <summary>Opens folder/model.safetensors.index.json if present, else folder/model.safetensors.</summary>
    public static SafetensorsCheckpoint OpenFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: folder not found");
        var index = System.IO.Path.Combine(folder, SafetensorsIndex.FileName);
        if (File.Exists(index)) return OpenIndex(index);
        var single = System.IO.Path.Combine(folder, "model.safetensors");
        if (File.Exists(single)) return OpenFile(single);
        var others = Directory.GetFiles(folder).Select(System.IO.Path.GetFileName).Where(n => n!.EndsWith(".bin") || n.EndsWith(".pt") || n.EndsWith(".safetensors")).ToList();
        var hint = others.Count > 0 ? $" (found {string.Join(", ", others.Take(5))}; PyTorch pickle checkpoints are not supported, convert them to safetensors)" : "";
        throw new FileNotFoundException($"{folder}: no model.safetensors or {SafetensorsIndex.FileName}{hint}", single);
    }

    public static SafetensorsCheckpoint OpenFile(string path)
    {
        var cp = new SafetensorsCheckpoint(path);
        try
        {
            var f = SafetensorsFile.Open(path);
            cp._files.Add(f);
            foreach (var t in f.Tensors) cp.Add(t, f);
            return cp;
        }
        catch
        {
            cp.Dispose();
            throw;
        }
    }

    public static SafetensorsCheckpoint OpenIndex(string indexPath)
    {
        var index = SafetensorsIndex.Read(indexPath);
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var cp = new SafetensorsCheckpoint(indexPath);
        try
        {
            var byShard = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var shard in index.WeightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                var shardPath = System.IO.Path.Combine(folder, shard);
                if (!File.Exists(shardPath)) throw new FileNotFoundException($"{indexPath}: shard '{shard}' listed in weight_map is missing", shardPath);
                var f = SafetensorsFile.Open(shardPath);
                cp._files.Add(f);
                byShard.Add(shard, f);
            }
            foreach (var (shard, f) in byShard)
                foreach (var t in f.Tensors)
                {
                    if (!index.WeightMap.TryGetValue(t.Name, out var listed))
                        throw new InvalidDataException($"{indexPath}: tensor '{t.Name}' in shard '{shard}' is not listed in weight_map (stale index?)");
                    if (listed == shard) cp.Add(t, f);
                }
            foreach (var (name, shard) in index.WeightMap)
                if (!cp._byName.ContainsKey(name))
                    throw new InvalidDataException($"{indexPath}: weight_map puts tensor '{name}' in '{shard}', but that shard does not contain it");
            return cp;
        }
        catch
        {
            cp.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public bool TryGet(string name, out SafetensorsTensorInfo info)
    {
        var ok = _byName.TryGetValue(name, out var e);
        info = e.Info;
        return ok;
    }

    public SafetensorsTensorInfo Get(string name) => Entry(name).Info;

    /// <summary>The file holding a tensor (for error messages and raw access).</summary>
    public SafetensorsFile FileOf(string name) => Entry(name).File;

    public ReadOnlySpan<byte> Bytes(string name)
    {
        var (info, file) = Entry(name);
        return file.Bytes(info);
    }

    public float[] ReadFloat32(string name) => Entry(name).File.ReadFloat32(name);

    public T[] Read<T>(string name) where T : unmanaged => Entry(name).File.Read<T>(name);

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
        _files.Clear();
    }

    private (SafetensorsTensorInfo Info, SafetensorsFile File) Entry(string name) =>
        _byName.TryGetValue(name, out var e) ? e : throw new InvalidDataException($"{Path}: tensor '{name}' is not in this checkpoint");

    private void Add(SafetensorsTensorInfo t, SafetensorsFile f)
    {
        if (!_byName.TryAdd(t.Name, (t, f))) throw new InvalidDataException($"{f.Path}: tensor '{t.Name}' is stored twice");
        _tensors.Add(t);
    }
}
