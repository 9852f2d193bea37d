using System.Buffers.Binary;
using AwqRuntime.Fuzz;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>
/// The fuzzer (tests/AwqRuntime.Fuzz, run by scripts/fuzz and in CI) can only be trusted if its oracle
/// flags what it should, its cases replay exactly, and it finds a planted bug; and its seeds and
/// regression cases must pass on today's loaders.
/// </summary>
public class FuzzHarnessTests
{
    private static readonly string[] Names = ["/tmp/case-1", "case-1", "model.gguf"];

    [Fact]
    public void The_oracle_accepts_named_errors_and_flags_crash_types_unnamed_and_multi_line_messages()
    {
        Assert.Equal(VerdictKind.Loaded, Oracle.Classify(null, Names).Kind);
        Assert.Equal(VerdictKind.Rejected, Oracle.Classify(new InvalidDataException("/tmp/case-1/model.gguf: GGUF version 9 is not supported"), Names).Kind);
        Assert.Equal(VerdictKind.Defect, Oracle.Classify(new IndexOutOfRangeException("/tmp/case-1/model.gguf"), Names).Kind);
        Assert.Equal(VerdictKind.Defect, Oracle.Classify(new OverflowException(), Names).Kind);
        Assert.Equal(VerdictKind.Defect, Oracle.Classify(new OutOfMemoryException(), Names).Kind);
        Assert.Equal(VerdictKind.Defect, Oracle.Classify(new NullReferenceException(), Names).Kind);
        var unnamed = Oracle.Classify(new InvalidOperationException("Cannot transcode invalid UTF-8 JSON text to UTF-16 string."), Names);
        Assert.Equal(VerdictKind.Defect, unnamed.Kind);
        Assert.StartsWith("unnamed", unnamed.Category);
        Assert.Equal(VerdictKind.Defect, Oracle.Classify(new InvalidDataException("model.gguf: bad\nliteral"), Names).Kind);
        // Categories group messages that differ only in names, numbers and quoted text.
        Assert.Equal(
            Oracle.Classify(new InvalidDataException("/tmp/case-1/model.gguf: tensor 'a' has 12 bytes"), Names).Category,
            Oracle.Classify(new InvalidDataException("/tmp/case-1/model.gguf: tensor 'bb' has 7 bytes"), Names).Category);
    }

    [Fact]
    public void Cases_are_a_function_of_seed_target_and_index()
    {
        using var tmp = new TempDir("fuzz-replay");
        File.Copy(SharedData.Stories260KGguf, tmp.File("model.gguf"));
        var target = new FuzzTarget("gguf", tmp.Path, [new("model.gguf", SeedKind.Gguf)], _ => { });
        var a = new CaseRunner(tmp.File("cases"), TimeSpan.FromSeconds(10));
        var b = new CaseRunner(tmp.File("cases-b"), TimeSpan.FromSeconds(10));
        var distinct = new HashSet<string>();
        for (var i = 0; i < 50; i++)
        {
            var x = a.MakeCase(target, 7, i);
            var y = b.MakeCase(target, 7, i);
            Assert.Equal(x.Edits, y.Edits);
            Assert.Equal(x.Bytes, y.Bytes);
            distinct.Add(x.ToString());
        }
        Assert.True(distinct.Count > 40, $"only {distinct.Count} distinct cases in 50");
        Assert.NotEqual(a.MakeCase(target, 7, 3).Bytes, a.MakeCase(target, 8, 3).Bytes);
    }

    [Fact]
    public void The_gguf_field_map_finds_every_tensor_offset_and_the_context_length()
    {
        var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
        var fields = GgufFieldMap.Map(bytes);
        var tensorCount = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8));
        Assert.Equal(tensorCount, fields.Count(f => f.Role == FieldRole.Offset));
        var ctx = Assert.Single(fields, f => f.Label == "llama.context_length");
        using (var gguf = AwqRuntime.Formats.Gguf.GgufFile.Open(SharedData.Stories260KGguf))
            Assert.Equal(Convert.ToInt64(gguf.Metadata["llama.context_length"].Value), ByteMutator.Read(bytes, ctx));
        // Offsets are increasing: the map reads them from the right places.
        var offsets = fields.Where(f => f.Role == FieldRole.Offset).Select(f => ByteMutator.Read(bytes, f)).ToList();
        Assert.Equal(offsets.Order(), offsets);
    }

    /// <summary>
    /// A planted bug — a loader that reads a header byte at a fixed position without checking the file is
    /// that long — must be found within a few hundred cases (truncations reach it) and classified as a
    /// Defect; the fixed loader gives no Defect on the same cases.
    /// </summary>
    [Fact]
    public void A_planted_out_of_bounds_read_is_found()
    {
        using var tmp = new TempDir("fuzz-planted");
        File.Copy(SharedData.Stories260KGguf, tmp.File("model.gguf"));
        static void Load(string folder, bool buggy)
        {
            var path = Path.Combine(folder, "model.gguf");
            var b = File.ReadAllBytes(path);
            if (!buggy && b.Length <= 8000) throw new InvalidDataException($"{path}: truncated ({b.Length} bytes)");
            _ = b[8000];
        }
        var buggy = new FuzzTarget("planted", tmp.Path, [new("model.gguf", SeedKind.Gguf)], c => Load(c, buggy: true));
        var fixedTarget = new FuzzTarget("planted", tmp.Path, [new("model.gguf", SeedKind.Gguf)], c => Load(c, buggy: false));
        var runner = new CaseRunner(tmp.File("cases"), TimeSpan.FromSeconds(10));
        var found = 0;
        for (var i = 0; i < 300; i++)
        {
            var m = runner.MakeCase(buggy, 1, i);
            var (bad, _) = runner.Execute(buggy, m);
            var (good, _) = runner.Execute(fixedTarget, m);
            Assert.NotNull(bad);
            Assert.NotEqual(VerdictKind.Defect, good!.Kind);
            if (bad.Kind == VerdictKind.Defect)
            {
                found++;
                Assert.StartsWith("IndexOutOfRangeException", bad.Category);
            }
        }
        Assert.True(found > 0, "300 cases never hit the planted out-of-bounds read");
    }

    [Fact]
    public void A_hanging_loader_is_reported_not_waited_for()
    {
        using var tmp = new TempDir("fuzz-hang");
        File.WriteAllBytes(tmp.File("x.bin"), [1, 2, 3]);
        using var release = new ManualResetEventSlim();
        var target = new FuzzTarget("hang", tmp.Path, [new("x.bin", SeedKind.Binary)], _ => release.Wait());
        var runner = new CaseRunner(tmp.File("cases"), TimeSpan.FromMilliseconds(300));
        var (verdict, _) = runner.Execute(target, runner.MakeCase(target, 1, 0));
        release.Set();
        Assert.Null(verdict);
    }

    /// <summary>Every seed loads and runs, every regression case is refused or handled, and a short run of random cases finds nothing.</summary>
    [Fact]
    public void Todays_loaders_pass_the_regression_cases_and_a_short_fuzz_run()
    {
        using var tmp = new TempDir("fuzz-seeds");
        var targets = Seeds.Build(SharedData.Root, tmp.File("seeds"), _ => { });
        Assert.Equal(10, targets.Count);
        foreach (var t in targets) t.Run(t.SeedFolder);
        Regressions.Tokenizer = File.ReadAllBytes(SharedData.Tok512);
        var runner = new CaseRunner(tmp.File("cases"), TimeSpan.FromSeconds(60));
        foreach (var r in Regressions.All)
        {
            var t = targets.Single(x => x.Name == r.Target);
            var (v, _) = runner.Execute(t, new Mutation(r.File, r.Edit(File.ReadAllBytes(Path.Combine(t.SeedFolder, r.File))), [r.Name]));
            Assert.NotNull(v);
            Assert.True(v.Kind != VerdictKind.Defect && (!r.MustReject || v.Kind == VerdictKind.Rejected), $"{r.Name}: {v.Kind} {v.Message}");
        }
        foreach (var t in targets)
            for (var i = 0; i < 40; i++)
            {
                var m = runner.MakeCase(t, 20261203, i);
                var (v, _) = runner.Execute(t, m);
                Assert.True(v is { Kind: not VerdictKind.Defect }, $"{t.Name}:{i} {m}: {v?.Category ?? "hang"} {v?.Message}");
            }
    }
}
