using System.Globalization;

namespace AwqRuntime.Fuzz;

/// <summary>The fuzzer's command line (scripts/fuzz passes it through).</summary>
public sealed record FuzzOptions
{
    public double Seconds { get; init; } = 60;
    public long? MaxCases { get; init; }
    public int Seed { get; init; } = 1;
    public IReadOnlyList<string>? Targets { get; init; }
    public string? Shared { get; init; }
    public string Out { get; init; } = Path.Combine("artifacts", "fuzz");
    public double CaseTimeoutSeconds { get; init; } = 30;
    public (string Target, long Index)? Replay { get; init; }
    /// <summary>Coverage-guided mode: run one target under afl-fuzz (its input on stdin).</summary>
    public string? Afl { get; init; }

    /// <summary>Write the seed of --afl's target into this folder (afl-fuzz -i) and exit.</summary>
    public string? AflInput { get; init; }

    /// <summary>Use seeds already written here (by --write-seeds) instead of writing them.</summary>
    public string? Seeds { get; init; }

    /// <summary>Write the seeds into this folder and exit.</summary>
    public string? WriteSeeds { get; init; }

    public bool Json { get; init; }
    public bool Quiet { get; init; }

    public const string Usage =
        "usage: awq-fuzz [--seconds S] [--cases N] [--seed K] [--targets a,b] [--shared DIR] [--out DIR] [--timeout S] [--replay TARGET:INDEX] [--json] [--quiet]\n" +
        "       awq-fuzz --write-seeds DIR | --afl TARGET --seeds DIR [--afl-input DIR]   (coverage-guided, under afl-fuzz: scripts/fuzz-afl)";

    public static FuzzOptions Parse(string[] args)
    {
        var o = new FuzzOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            double Positive(string flag, string v) =>
                double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 && double.IsFinite(d)
                    ? d : throw new ArgumentException($"{flag}: '{v}' is not a positive number");
            switch (args[i])
            {
                case "--seconds": o = o with { Seconds = Positive("--seconds", Next()) }; break;
                case "--cases": o = o with { MaxCases = (long)Positive("--cases", Next()) }; break;
                case "--seed": o = o with { Seed = int.TryParse(Next(), CultureInfo.InvariantCulture, out var s) ? s : throw new ArgumentException("--seed: not an integer") }; break;
                case "--targets": o = o with { Targets = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) }; break;
                case "--shared": o = o with { Shared = Next() }; break;
                case "--out": o = o with { Out = Next() }; break;
                case "--timeout": o = o with { CaseTimeoutSeconds = Positive("--timeout", Next()) }; break;
                case "--replay":
                    var r = Next().Split(':');
                    o = o with
                    {
                        Replay = r.Length == 2 && long.TryParse(r[1], CultureInfo.InvariantCulture, out var idx) && idx >= 0
                            ? (r[0], idx) : throw new ArgumentException("--replay: expected TARGET:INDEX, e.g. gguf:1234"),
                    };
                    break;
                case "--afl": o = o with { Afl = Next() }; break;
                case "--seeds": o = o with { Seeds = Next() }; break;
                case "--write-seeds": o = o with { WriteSeeds = Next() }; break;
                case "--afl-input": o = o with { AflInput = Next() }; break;
                case "--json": o = o with { Json = true }; break;
                case "--quiet": o = o with { Quiet = true }; break;
                case "-h" or "--help": throw new HelpRequested();
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        return o;
    }

    public sealed class HelpRequested : Exception;

    /// <summary>../shared beside the repository that holds this build (tests/AwqRuntime.Fuzz/bin/...).</summary>
    public string FindShared()
    {
        if (Shared != null) return Directory.Exists(Shared) ? Shared : throw new DirectoryNotFoundException($"--shared {Shared}: no such folder");
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "AwqRuntime.sln")))
            {
                var shared = Path.Combine(d.Parent?.FullName ?? d.FullName, "shared");
                if (Directory.Exists(shared)) return shared;
            }
        throw new DirectoryNotFoundException("../shared (models and data) not found beside the repository; pass --shared DIR");
    }
}
