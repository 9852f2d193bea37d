using System.Runtime.InteropServices;
using AwqRuntime.Evaluation;
using Microsoft.Win32.SafeHandles;

namespace AwqRuntime.Comparison;

/// <summary>
/// The reference's logits at the scored positions of every evaluation window, as exact float32 in
/// a temporary file: written once while the reference model runs, then read back one window at a
/// time for each row, so that rows are scored one after another without the reference loaded
/// beside them and with the numbers an in-memory comparison gives (the same floats reach
/// <see cref="ReferenceRows.Set"/>). Window w holds its <see cref="EvalWindow.ScoredCount"/> rows
/// of <see cref="VocabSize"/> floats, after those of the windows before it; reads and writes go
/// straight between the caller's window buffer and the file (no mapping, no second buffer).
/// Size: scored positions × vocabulary × 4 bytes, e.g. 255 × 32,000 × 4 = 32.6 MB per 512-token
/// window of a Llama-2 vocabulary, 131 MB with Llama 3's 128,256; the space is reserved when the
/// file is created, so a disk too small fails before the reference runs. Deleted on dispose.
/// </summary>
internal sealed class ReferenceLogitsFile : IDisposable
{
    /// <summary>The file's name in the work folder.</summary>
    public const string FileName = "reference-logits.f32";

    private readonly SafeFileHandle _file;
    private readonly IReadOnlyList<EvalWindow> _windows;
    private readonly long[] _offsets;
    private readonly bool[] _written;

    public ReferenceLogitsFile(string folder, IReadOnlyList<EvalWindow> windows, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        _windows = windows;
        VocabSize = vocabSize;
        _offsets = new long[windows.Count + 1];
        for (var w = 0; w < windows.Count; w++) _offsets[w + 1] = _offsets[w] + (long)windows[w].ScoredCount * vocabSize * sizeof(float);
        _written = new bool[windows.Count];
        Bytes = _offsets[^1];
        Directory.CreateDirectory(folder);
        Path = System.IO.Path.Combine(folder, FileName);
        try
        {
            _file = File.OpenHandle(Path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.DeleteOnClose, preallocationSize: Bytes);
        }
        catch (IOException e)
        {
            throw new IOException($"{Path}: the reference logits of {windows.Count} windows need {ComparisonFormat.Bytes(Bytes)} on disk " +
                $"({windows.Sum(x => (long)x.ScoredCount):N0} scored positions × {vocabSize:N0} float32 logits): {e.Message} " +
                "Evaluate fewer windows or give a work folder with more free space.", e);
        }
    }

    public string Path { get; }

    public int VocabSize { get; }

    /// <summary>The file's size: every window's scored rows.</summary>
    public long Bytes { get; }

    /// <summary>Floats in window <paramref name="window"/>'s scored rows.</summary>
    public int Length(int window) => checked(_windows[window].ScoredCount * VocabSize);

    /// <summary>Stores window <paramref name="window"/>'s logits at its scored positions ([ScoredCount, VocabSize]).</summary>
    public void Write(int window, ReadOnlySpan<float> scored)
    {
        if (scored.Length != Length(window))
            throw new ArgumentException($"window {window} has {Length(window)} scored logits, {scored.Length} were given", nameof(scored));
        RandomAccess.Write(_file, MemoryMarshal.AsBytes(scored), _offsets[window]);
        _written[window] = true;
    }

    /// <summary>Reads window <paramref name="window"/>'s scored rows back into <paramref name="scored"/> (at least <see cref="Length"/> floats).</summary>
    public void Read(int window, Span<float> scored)
    {
        if (!_written[window]) throw new InvalidOperationException($"window {window} of the reference logits has not been written");
        var bytes = MemoryMarshal.AsBytes(scored[..Length(window)]);
        var offset = _offsets[window];
        while (bytes.Length > 0)
        {
            var n = RandomAccess.Read(_file, bytes, offset);
            if (n == 0) throw new EndOfStreamException($"{Path}: window {window} ends early");
            bytes = bytes[n..];
            offset += n;
        }
    }

    public void Dispose()
    {
        _file.Dispose(); // DeleteOnClose removes the file
        File.Delete(Path);
    }
}
