using System.IO.MemoryMappedFiles;

namespace AwqRuntime.Formats;

/// <summary>
/// A read-only memory map of a whole file. Checkpoints are read through it so that weights are
/// paged in on demand instead of being copied into managed memory twice. Every access is bounds
/// checked against the file length; callers never see a pointer.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    public MappedFile(string path)
    {
        Path = path;
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: file not found", path);
        Length = info.Length;
        if (Length == 0) throw new InvalidDataException($"{path}: file is empty");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _base);
        _base += _view.PointerOffset;
    }

    public string Path { get; }
    public long Length { get; }

    /// <summary>Bytes [offset, offset+length) of the file; throws InvalidDataException naming the file when out of range.</summary>
    public ReadOnlySpan<byte> Span(long offset, long length)
    {
        CheckRange(offset, length, "read");
        if (length > int.MaxValue) throw new InvalidDataException($"{Path}: a single read of {length} bytes is too large");
        return new ReadOnlySpan<byte>(_base + offset, (int)length);
    }

    /// <summary>Throws unless [offset, offset+length) lies inside the file.</summary>
    public void CheckRange(long offset, long length, string what)
    {
        if (offset < 0 || length < 0 || offset > Length || length > Length - offset)
            throw new InvalidDataException(
                $"{Path}: {what} at offset {offset} of {length} bytes runs past the end of the file ({Length} bytes); the file is truncated or corrupt");
    }

    public void Dispose()
    {
        if (_base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view.Dispose();
        _map.Dispose();
    }
}
