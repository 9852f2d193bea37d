namespace AwqRuntime.Fuzz;

/// <summary>
/// Coverage-guided fuzzing under AFL++ (google/AFL's fork-server protocol, through SharpFuzz): afl-fuzz
/// mutates one file of one target and feeds it on stdin; each input runs as a case of that target and
/// the same <see cref="Oracle"/> decides — a Defect is rethrown, which AFL records as a crash; a hang is
/// AFL's own timeout. AwqRuntime.dll must be instrumented by `sharpfuzz` first (scripts/fuzz-afl does it).
/// </summary>
public static class AflMode
{
    /// <summary>The file afl-fuzz mutates for each target (AFL++ refuses inputs over 1 MB, so the large seeds are left to the mutation runner).</summary>
    public static string FileFor(FuzzTarget t) => t.Name switch
    {
        "llama2c" => "tokenizer.bin",
        "hf" or "hf-sharded" or "awq" or "compressed-tensors" or "int8" => "config.json",
        _ => t.Files[0].Name,
    };

    /// <summary>Writes the seed of <paramref name="t"/>'s mutated file into <paramref name="folder"/> (afl-fuzz -i).</summary>
    public static void WriteInput(FuzzTarget t, string folder)
    {
        Directory.CreateDirectory(folder);
        var file = FileFor(t);
        File.Copy(Path.Combine(t.SeedFolder, file), Path.Combine(folder, file), overwrite: true);
    }

    public static void Run(FuzzTarget t, CaseRunner runner)
    {
        var file = FileFor(t);
        SharpFuzz.Fuzzer.Run(stream =>
        {
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var (v, folder) = runner.Execute(t, new Mutation(file, buffer.ToArray(), ["afl"]));
            if (v == null) throw new TimeoutException($"{t.Name}: no result from {folder}");
            if (v.Kind == VerdictKind.Defect) throw new FuzzFinding($"{t.Name}: {v.Category}: {v.Message}");
        });
    }

    /// <summary>What AFL sees as a crash: a Defect verdict.</summary>
    public sealed class FuzzFinding(string message) : Exception(message);
}
