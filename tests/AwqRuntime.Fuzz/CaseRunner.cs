namespace AwqRuntime.Fuzz;

/// <summary>
/// Makes and runs cases. A case folder holds the mutated file and symbolic links to the target's other
/// seed files; the target runs on its own thread with a time limit (a hang is a finding, and since a thread
/// cannot be killed, the run stops there). Cases are reproducible: the mutation is a function of
/// (seed, target, index) alone.
/// </summary>
public sealed class CaseRunner(string casesRoot, TimeSpan timeout)
{
    private readonly Dictionary<(string, string), byte[]> _seedBytes = [];
    private readonly Dictionary<(string, string), IReadOnlyList<BinaryField>?> _seedFields = [];
    private int _counter;

    public Mutation MakeCase(FuzzTarget t, int seed, long index)
    {
        var rng = new Random(Mix(seed, t.Name, index));
        var file = t.Files[rng.Next(t.Files.Count)];
        var original = SeedBytes(t, file.Name);
        var bytes = original;
        var edits = new List<string>();
        var stacked = rng.Next(4) == 0 ? 2 + rng.Next(2) : 1;
        for (var i = 0; i < stacked; i++)
        {
            var fields = ReferenceEquals(bytes, original) ? SeedFields(t, file) : Fields(file.Kind, bytes);
            var (next, edit) = file.Kind switch
            {
                SeedKind.Json => JsonMutator.Mutate(bytes, rng),
                SeedKind.Safetensors => SafetensorsMutator.Mutate(bytes, rng),
                _ => ByteMutator.Mutate(bytes, rng, fields),
            };
            bytes = next;
            edits.Add(edit);
        }
        return new Mutation(file.Name, bytes, edits);
    }

    /// <summary>Runs one case; null when it hung (the case folder is kept for the report).</summary>
    public (Verdict? Verdict, string Folder) Execute(FuzzTarget t, Mutation m)
    {
        var folder = Path.Combine(casesRoot, $"{t.Name}-{Interlocked.Increment(ref _counter)}");
        Directory.CreateDirectory(folder);
        foreach (var f in t.Files)
        {
            var path = Path.Combine(folder, f.Name);
            if (f.Name == m.File) File.WriteAllBytes(path, m.Bytes);
            else File.Copy(Path.Combine(t.SeedFolder, f.Name), path);
        }
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                t.Run(folder);
            }
            catch (Exception e)
            {
                error = e;
            }
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = $"fuzz {t.Name}" };
        thread.Start();
        if (!thread.Join(timeout)) return (null, folder);
        var names = new List<string> { folder, Path.GetFileName(folder) };
        names.AddRange(t.Files.Select(f => f.Name));
        var verdict = Oracle.Classify(error, names);
        Directory.Delete(folder, recursive: true);
        return (verdict, folder);
    }

    /// <summary>Copies a case into <paramref name="into"/> for the report.</summary>
    public static void Save(FuzzTarget t, Mutation m, string into, string description)
    {
        Directory.CreateDirectory(into);
        foreach (var f in t.Files)
        {
            var path = Path.Combine(into, f.Name);
            if (f.Name == m.File) File.WriteAllBytes(path, m.Bytes);
            else File.Copy(Path.Combine(t.SeedFolder, f.Name), path, overwrite: true);
        }
        File.WriteAllText(Path.Combine(into, "case.txt"), description);
    }

    private byte[] SeedBytes(FuzzTarget t, string file)
    {
        if (!_seedBytes.TryGetValue((t.Name, file), out var b)) _seedBytes[(t.Name, file)] = b = File.ReadAllBytes(Path.Combine(t.SeedFolder, file));
        return b;
    }

    private IReadOnlyList<BinaryField>? SeedFields(FuzzTarget t, SeedFile f)
    {
        if (!_seedFields.TryGetValue((t.Name, f.Name), out var fields)) _seedFields[(t.Name, f.Name)] = fields = Fields(f.Kind, SeedBytes(t, f.Name));
        return fields;
    }

    public static IReadOnlyList<BinaryField>? Fields(SeedKind kind, byte[] bytes) => kind switch
    {
        SeedKind.Gguf => GgufFieldMap.Map(bytes),
        SeedKind.Llama2cModel => Llama2cFieldMap.Model(bytes),
        SeedKind.Llama2cTokenizer => Llama2cFieldMap.Tokenizer(bytes),
        _ => null,
    };

    /// <summary>A per-case RNG seed that does not depend on the process (string.GetHashCode is randomised per run).</summary>
    public static int Mix(int seed, string target, long index)
    {
        var h = 2166136261u;
        foreach (var ch in target) h = (h ^ ch) * 16777619u;
        return (int)(h ^ (uint)(seed * 1000003) ^ (uint)(index * 2654435761));
    }
}
