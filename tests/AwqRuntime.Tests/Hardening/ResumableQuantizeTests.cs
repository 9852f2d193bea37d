using AwqRuntime.Cli.Commands;
using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Resume;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// Crash-safe, resumable quantization: each finished block goes to a work folder, a run interrupted at
/// any block and resumed writes a checkpoint byte-identical to an uninterrupted run, and `kill -9` at
/// random moments leaves no partial output folder.
/// </summary>
public class ResumableQuantizeTests
{
    private static readonly string[] CheckpointFiles = ["model.safetensors", "config.json", "awq_search.safetensors"];

    private static CalibrationSet Calibration(AwqModel m) => m.CalibrationFromText(File.ReadAllText(SharedData.CalibText), samples: 8, seqLen: 128);

    /// <summary>Quantizes stories260K into <paramref name="outDir"/>, journalling into <paramref name="work"/>; cancelled when block <paramref name="stopAt"/> starts.</summary>
    private static bool Quantize(AwqConfig config, string outDir, string work, int? stopAt)
    {
        using var m = AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512);
        var calib = config.Method == QuantMethod.Rtn ? CalibrationSet.None : Calibration(m);
        var journal = QuantizationJournal.Open(work, QuantizationJournal.Describe(SharedData.Stories260KBin, config, calib), m.Config.NumLayers,
            activations: config.Method != QuantMethod.Rtn);
        using var cancel = new CancellationTokenSource();
        try
        {
            m.Quantize(calib, config, new SyncProgress<QuantProgress>(p => { if (p.Layer == stopAt && p.Step == "load") cancel.Cancel(); }), cancel.Token,
                journal: journal);
        }
        catch (OperationCanceledException)
        {
            // Cancelled as block stopAt starts: that block may still finish (RTN checks the token only between blocks).
            Assert.InRange(Directory.GetFiles(work, "block-*.safetensors").Length, stopAt!.Value, stopAt.Value + 1);
            return false;
        }
        m.SaveQuantized(outDir, staging: journal.Staging);
        journal.Delete();
        return true;
    }

    public static TheoryData<string, int, int> Interruptions => new()
    {
        { "awq", 1, 4 }, { "awq", 3, 4 }, { "awq", 4, 4 }, { "rtn", 2, 4 }, { "w8a8-static", 4, 4 }, { "gptq", 1, 4 },
        { "rtn", 2, 3 }, { "awq", 3, 2 }, { "gptq", 1, 8 }, // 2-, 3- and 8-bit blocks journalled too (pack-quantized checkpoint)
    };

    [Theory]
    [MemberData(nameof(Interruptions))]
    public void A_run_interrupted_at_a_block_and_resumed_writes_the_same_checkpoint(string method, int stopAt, int bits)
    {
        using var tmp = new TempDir("resume");
        var parsed = QuantMethodNames.Parse(method);
        var config = new AwqConfig { Method = parsed, GroupSize = 32, WBit = parsed.IsInt4() ? bits : 4, ModulesToNotConvert = ["down_proj"] }.Validate();
        Assert.True(Quantize(config, tmp.File("whole"), tmp.File("whole.work"), stopAt: null));
        Assert.False(Directory.Exists(tmp.File("whole.work")));

        Assert.False(Quantize(config, tmp.File("resumed"), tmp.File("resumed.work"), stopAt));
        Assert.False(Directory.Exists(tmp.File("resumed")));
        var reopened = QuantizationJournal.Open(tmp.File("resumed.work"),
            File.ReadAllText(Path.Combine(tmp.File("resumed.work"), "run.json")), 5, activations: method != "rtn");
        Assert.Equal(Directory.GetFiles(tmp.File("resumed.work"), "block-*.safetensors").Length, reopened.Completed);
        Assert.True(Quantize(config, tmp.File("resumed"), tmp.File("resumed.work"), stopAt: null));
        foreach (var f in Directory.GetFiles(tmp.File("whole")).Select(Path.GetFileName))
            Assert.True(File.ReadAllBytes(Path.Combine(tmp.File("whole"), f!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(tmp.File("resumed"), f!))),
                $"{f} differs after resuming at block {stopAt}");
    }

    [Fact]
    public void A_block_whose_successor_has_no_input_yet_is_done_again()
    {
        using var tmp = new TempDir("resume-torn");
        var config = new AwqConfig { Method = QuantMethod.Awq, GroupSize = 32, ModulesToNotConvert = ["down_proj"] };
        Assert.False(Quantize(config, tmp.File("out"), tmp.File("out.work"), stopAt: 3));
        // As if killed after block 3's file landed but before the activations for block 4 did; a half-written temp file lies beside it.
        File.Copy(Path.Combine(tmp.File("out.work"), "block-0002.safetensors"), Path.Combine(tmp.File("out.work"), "block-0003.safetensors"));
        File.WriteAllBytes(Path.Combine(tmp.File("out.work"), "block-0004.safetensors.tmp"), [1, 2, 3]);
        var run = File.ReadAllText(Path.Combine(tmp.File("out.work"), "run.json"));
        Assert.Equal(3, QuantizationJournal.Open(tmp.File("out.work"), run, 5, activations: true).Completed);
        Assert.True(Quantize(config, tmp.File("out"), tmp.File("out.work"), stopAt: null));
        Assert.True(Quantize(config, tmp.File("whole"), tmp.File("whole.work"), stopAt: null));
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.File("whole"), "model.safetensors")), File.ReadAllBytes(Path.Combine(tmp.File("out"), "model.safetensors")));
    }

    [Fact]
    public void A_work_folder_from_other_settings_is_refused_naming_what_differs()
    {
        using var tmp = new TempDir("resume-other");
        var config = new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 32, ModulesToNotConvert = ["down_proj"] };
        Assert.False(Quantize(config, tmp.File("out"), tmp.File("out.work"), stopAt: 2));
        var e = Assert.Throws<InvalidDataException>(() => Quantize(config with { GroupSize = 64 }, tmp.File("out"), tmp.File("out.work"), stopAt: null));
        Assert.Contains("out.work", e.Message);
        Assert.Contains("config differs", e.Message);
    }

    /// <summary>
    /// `awq quantize` killed with SIGKILL at random moments (seeded), then `--resume`d until it finishes:
    /// after every kill there is no output folder (nor a temporary one beside it), only the work folder;
    /// the final checkpoint equals an uninterrupted run's byte for byte, and the work folder is gone.
    /// </summary>
    [Fact]
    public void Kill_9_at_random_moments_then_resume_gives_the_uninterrupted_checkpoint()
    {
        using var tmp = new TempDir("resume-kill");
        string[] Args(string outDir) =>
        [
            "quantize", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--out", outDir, "-g", "32", "--modules-to-not-convert", "down_proj",
            "--calib-samples", "32", "--calib-seqlen", "256", "--threads", "1", "--quiet",
        ];
        var whole = tmp.File("whole");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        AwqCli.Succeed(Args(whole));
        var uninterrupted = clock.Elapsed;
        bool Complete(string dir) => CheckpointFiles.All(f => File.Exists(Path.Combine(dir, f)) &&
            File.ReadAllBytes(Path.Combine(whole, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir, f))));
        var outDir = tmp.File("killed");
        var rng = new Random(20261203);
        var kills = 0;
        var finished = false;
        for (var attempt = 0; attempt < 12 && !finished; attempt++)
        {
            // Random moments within the span of a whole run (the machine's speed decides what a run takes).
            var delay = uninterrupted * (0.15 + 0.65 * rng.NextDouble());
            if (!AwqCli.StartAndKill(delay, [.. Args(outDir), "--resume"]))
            {
                finished = true; // it ran to the end before the kill
                break;
            }
            kills++;
            Assert.Empty(Directory.GetDirectories(tmp.Path, "killed.tmp-*"));
            if (!Directory.Exists(outDir)) continue;
            // Killed after the checkpoint was renamed into place: it must be the whole one.
            Assert.True(Complete(outDir), $"kill {kills} after {delay.TotalMilliseconds:F0} ms left a partial output folder");
            finished = true;
        }
        Assert.True(kills >= 1, "no kill landed before the run finished");
        if (!finished || Directory.Exists(QuantizeCommandWork(outDir))) AwqCli.Succeed([.. Args(outDir), "--resume", "--force"]);
        Assert.False(Directory.Exists(QuantizeCommandWork(outDir)));
        foreach (var f in CheckpointFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(whole, f)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(outDir, f))), $"{f} differs after {kills} kills");
    }

    [Fact]
    public void A_second_run_without_resume_says_how_to_continue()
    {
        using var tmp = new TempDir("resume-cli");
        var outDir = tmp.File("out");
        Directory.CreateDirectory(QuantizeCommandWork(outDir));
        AwqCli.FailWithOneLine("--resume", "quantize", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--out", outDir, "--method", "rtn",
            "-g", "32", "--modules-to-not-convert", "down_proj", "--quiet");
    }

    private static string QuantizeCommandWork(string outDir) => QuantizeCommand.WorkFolder(outDir);
}
