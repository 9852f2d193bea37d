namespace AwqRuntime.Formats.Safetensors;

/// <summary>
/// Writes a checkpoint as safetensors shards of at most <c>maxShardBytes</c> of tensor data each
/// (AutoAWQ / transformers default "5GB" = 5·10⁹ bytes), named model-00001-of-0000N.safetensors,
/// plus model.safetensors.index.json. Shards are filled greedily in tensor order; a tensor larger
/// than the limit gets a shard of its own. With a single shard the file is model.safetensors and no
/// index is written, as save_pretrained does. Tensors are streamed in order like
/// <see cref="SafetensorsWriter"/>; all files are renamed into place only by <see cref="Commit"/>.
/// </summary>
public sealed class ShardedSafetensorsWriter : IDisposable
{
    public const long DefaultMaxShardBytes = 5_000_000_000;

    private readonly string _directory;
    private readonly IReadOnlyDictionary<string, string>? _metadata;
    private readonly List<List<SafetensorsTensorSpec>> _shards = [];
    private readonly List<SafetensorsWriter> _writers = [];
    private readonly Dictionary<string, int> _shardOf = new(StringComparer.Ordinal);
    private readonly string _baseName;
    private int _current = -1;

    public ShardedSafetensorsWriter(string directory, IReadOnlyList<SafetensorsTensorSpec> tensors,
        long maxShardBytes = DefaultMaxShardBytes, IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        if (tensors.Count == 0) throw new ArgumentException("no tensors to write", nameof(tensors));
        _directory = System.IO.Path.GetFullPath(directory);
        _metadata = metadata;
        _baseName = baseName;
        long size = 0;
        foreach (var t in tensors)
        {
            if (_shards.Count == 0 || (size > 0 && size + t.ByteSize > maxShardBytes))
            {
                _shards.Add([]);
                size = 0;
            }
            _shards[^1].Add(t);
            size += t.ByteSize;
            if (!_shardOf.TryAdd(t.Name, _shards.Count - 1)) throw new ArgumentException($"tensor name '{t.Name}' is duplicated", nameof(tensors));
        }
        ShardFiles = _shards.Count == 1
            ? [$"{baseName}.safetensors"]
            : Enumerable.Range(1, _shards.Count).Select(i => $"{baseName}-{i:D5}-of-{_shards.Count:D5}.safetensors").ToArray();
        TotalSize = tensors.Sum(t => t.ByteSize);
        Directory.CreateDirectory(_directory);
    }

    /// <summary>File names (inside the directory) of the shards, in order.</summary>
    public IReadOnlyList<string> ShardFiles { get; }

    /// <summary>Sum of all tensors' byte sizes (the index's metadata.total_size).</summary>
    public long TotalSize { get; }

    /// <summary>The index file name, or null when the checkpoint fits one file.</summary>
    public string? IndexFile => ShardFiles.Count > 1 ? $"{_baseName}.safetensors.index.json" : null;

    public void Write(string name, ReadOnlySpan<float> values) => WriterFor(name).Write(name, values);

    public void Write<T>(string name, ReadOnlySpan<T> values) where T : unmanaged => WriterFor(name).Write(name, values);

    public void WriteBytes(string name, ReadOnlySpan<byte> bytes) => WriterFor(name).WriteBytes(name, bytes);

    /// <summary>Finishes every shard, renames them into place and writes the index.</summary>
    public void Commit()
    {
        if (_writers.Count != _shards.Count || _writers[^1].NextTensor != null)
            throw new InvalidOperationException($"{_directory}: not every tensor was written");
        var temps = _writers.Select(w => w.Finish()).ToList();
        for (var i = 0; i < temps.Count; i++)
        {
            File.Move(temps[i], _writers[i].Path, overwrite: true);
            _writers[i].MarkCommitted();
        }
        if (IndexFile != null)
        {
            var map = _shardOf.ToDictionary(kv => kv.Key, kv => ShardFiles[kv.Value], StringComparer.Ordinal);
            new SafetensorsIndex(map, TotalSize).Write(System.IO.Path.Combine(_directory, IndexFile));
        }
    }

    public void Dispose()
    {
        foreach (var w in _writers) w.Dispose();
    }

    private SafetensorsWriter WriterFor(string name)
    {
        if (!_shardOf.TryGetValue(name, out var shard)) throw new ArgumentException($"{_directory}: tensor '{name}' is not in the plan");
        if (shard != _current)
        {
            if (shard != _current + 1 || (_current >= 0 && _writers[_current].NextTensor != null))
                throw new InvalidOperationException($"{_directory}: tensor '{name}' written out of order");
            _writers.Add(new SafetensorsWriter(System.IO.Path.Combine(_directory, ShardFiles[shard]), _shards[shard], _metadata));
            _current = shard;
        }
        return _writers[_current];
    }
}
