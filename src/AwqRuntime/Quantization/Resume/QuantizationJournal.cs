using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Resume;

/// <summary>
/// The work folder of a crash-safe quantization run. After each block the pipeline commits, in this
/// order, each file written to a temporary name and renamed into place (so a file that exists is complete):
/// <list type="number">
/// <item>block-NNNN.safetensors, the finished block (<see cref="BlockState"/>);</item>
/// <item>activations.safetensors, the next block's calibration input, tagged with that block's number.</item>
/// </list>
/// run.json, written once at the start, identifies the run: the model files, the whole configuration
/// and the calibration tokens. A run resumed after a kill at any point starts at the first block that
/// has no file (or whose input was not yet saved), with the inputs it would have had, and so writes the
/// same checkpoint as a run that was never interrupted.
/// </summary>
public sealed class QuantizationJournal
{
    private const string RunFile = "run.json";
    private const string ActivationsFile = "activations.safetensors";

    private QuantizationJournal(string folder, int completed)
    {
        Folder = folder;
        Completed = completed;
    }

    public string Folder { get; }

    /// <summary>Blocks already finished when the journal was opened: the run starts at this block.</summary>
    public int Completed { get; }

    /// <summary>Where a checkpoint is assembled before it is renamed onto the output (inside the work folder, so a kill leaves no partial output).</summary>
    public string Staging => Path.Combine(Folder, "staging");

    /// <summary>
    /// Opens <paramref name="folder"/> for <paramref name="run"/> (see <see cref="Describe"/>): a new one is
    /// created; an existing one must be for the same run, and its finished blocks are counted.
    /// </summary>
    /// <param name="activations">Whether the method carries calibration activations from block to block.</param>
    public static QuantizationJournal Open(string folder, string run, int layers, bool activations)
    {
        var runPath = Path.Combine(folder, RunFile);
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            WriteAtomically(runPath, run);
            return new QuantizationJournal(folder, 0);
        }
        if (!File.Exists(runPath))
        {
            // created, then killed before run.json landed: nothing was done yet
            WriteAtomically(runPath, run);
            return new QuantizationJournal(folder, 0);
        }
        var theirs = File.ReadAllText(runPath);
        if (theirs != run)
            throw new InvalidDataException(
                $"{folder}: this work folder is from a run with another model, settings or calibration text ({Difference(theirs, run)}); delete it, or pass --force to start over");
        if (Directory.Exists(Path.Combine(folder, "staging"))) Directory.Delete(Path.Combine(folder, "staging"), recursive: true);
        var done = 0;
        while (done < layers && File.Exists(BlockPath(folder, done))) done++;
        if (activations && done > 0)
        {
            // The next block's input is saved after the block itself: a kill between the two leaves a block whose successor has no input yet.
            var next = ActivationsBlock(folder);
            done = Math.Min(done, next ?? 0);
        }
        return new QuantizationJournal(folder, done);
    }

    /// <summary>
    /// What identifies a run, as the JSON stored in run.json: the model's files (name, size, modification
    /// time), the configuration, and the calibration (source, shape and a SHA-256 of its tokens).
    /// </summary>
    public static string Describe(string modelPath, AwqConfig config, CalibrationSet calibration)
    {
        var full = Path.GetFullPath(modelPath);
        var files = Directory.Exists(full)
            ? Directory.GetFiles(full).Order(StringComparer.Ordinal).Select(f => new FileInfo(f))
            : [new FileInfo(full)];
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var sample in calibration.Samples) sha.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(sample.AsSpan()));
        var doc = new
        {
            model = full,
            files = files.Select(f => $"{f.Name} {f.Length} {f.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture)}").ToArray(),
            config = JsonSerializer.Serialize(config),
            calibration = $"{calibration.Source} {calibration.Samples.Length}x{calibration.SeqLen} sha256 {Convert.ToHexString(sha.GetHashAndReset())}",
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Commits block <paramref name="layer"/> and, when the method carries them, the next block's calibration input.</summary>
    public void Save(int layer, LlamaBlock block, BlockReport report, IReadOnlyDictionary<LinearKind, ChannelStats> stats, float[]? nextInput)
    {
        BlockState.Write(BlockPath(Folder, layer), block, report, stats);
        if (nextInput == null) return;
        var path = Path.Combine(Folder, ActivationsFile);
        var temp = path + ".tmp";
        using (var w = new SafetensorsWriter(temp, [new SafetensorsTensorSpec("x", TensorDType.F32, [nextInput.LongLength])],
                   new Dictionary<string, string> { ["next_block"] = (layer + 1).ToString(CultureInfo.InvariantCulture) }))
        {
            w.Write("x", nextInput);
            w.Commit();
        }
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>A finished block as it was committed.</summary>
    public (LlamaBlock Block, BlockReport Report, Dictionary<LinearKind, ChannelStats> Stats) Load(int layer, LlamaConfig c) =>
        BlockState.Read(BlockPath(Folder, layer), layer, c);

    /// <summary>The calibration input of block <see cref="Completed"/>.</summary>
    public float[] LoadActivations(long length)
    {
        var path = Path.Combine(Folder, ActivationsFile);
        using var f = SafetensorsFile.Open(path);
        if (ActivationsBlock(Folder) != Completed) throw new InvalidDataException($"{path}: holds the input of another block than {Completed}");
        var x = f.ReadFloat32("x");
        if (x.LongLength != length) throw new InvalidDataException($"{path}: {x.LongLength} values, expected {length}");
        return x;
    }

    /// <summary>Removes the work folder (after the checkpoint is in place).</summary>
    public void Delete()
    {
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }

    private static string BlockPath(string folder, int layer) => Path.Combine(folder, $"block-{layer:D4}.safetensors");

    private static int? ActivationsBlock(string folder)
    {
        var path = Path.Combine(folder, ActivationsFile);
        if (!File.Exists(path)) return null;
        using var f = SafetensorsFile.Open(path);
        return f.Metadata.TryGetValue("next_block", out var s) && int.TryParse(s, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    private static void WriteAtomically(string path, string text)
    {
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The first field that differs, for the message.</summary>
    private static string Difference(string theirs, string ours)
    {
        try
        {
            using var a = JsonDocument.Parse(theirs);
            using var b = JsonDocument.Parse(ours);
            foreach (var p in b.RootElement.EnumerateObject())
                if (!a.RootElement.TryGetProperty(p.Name, out var v) || v.GetRawText() != p.Value.GetRawText())
                    return p.Name == "files" ? "the model's files changed" : $"its {p.Name} differs";
        }
        catch (JsonException)
        {
            return "its run.json is unreadable";
        }
        return "run.json differs";
    }
}
