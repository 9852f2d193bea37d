using System.Diagnostics;
using System.Text.Json;

namespace AwqRuntime.Fuzz;

/// <summary>awq-fuzz: structure-aware mutation fuzzing of every AwqRuntime loader (see scripts/fuzz and docs/reliability.md).</summary>
public static class FuzzProgram
{
    public static int Main(string[] args)
    {
        FuzzOptions o;
        try
        {
            o = FuzzOptions.Parse(args);
        }
        catch (FuzzOptions.HelpRequested)
        {
            Console.WriteLine(FuzzOptions.Usage);
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"awq-fuzz: error: {e.Message}\n{FuzzOptions.Usage}");
            return 2;
        }

        var log = (string s) => { if (!o.Quiet && !o.Json) Console.Error.WriteLine(s); };
        var work = Path.Combine(Path.GetTempPath(), $"awq-fuzz-{Environment.ProcessId}");
        try
        {
            var shared = o.FindShared();
            Directory.CreateDirectory(work);
            if (o.WriteSeeds != null)
            {
                Seeds.Write(shared, o.WriteSeeds, log);
                return 0;
            }
            var all = o.Seeds != null ? Seeds.Targets(o.Seeds) : Seeds.Build(shared, Path.Combine(work, "seeds"), log);
            var targets = o.Targets == null ? all : o.Targets.Select(n => all.FirstOrDefault(t => t.Name == n)
                ?? throw new ArgumentException($"--targets: unknown target '{n}' ({string.Join(", ", all.Select(t => t.Name))})")).ToList();
            if (o.Afl == null)
                foreach (var t in all)
                    t.Run(t.SeedFolder); // every seed must load and run, or the findings would mean nothing
            Regressions.Tokenizer = File.ReadAllBytes(Path.Combine(all.First(t => t.Name == "llama2c").SeedFolder, "tokenizer.bin"));

            var runner = new CaseRunner(Path.Combine(work, "cases"), TimeSpan.FromSeconds(o.CaseTimeoutSeconds));
            var report = new FuzzReport { Seed = o.Seed };
            var outDir = Path.GetFullPath(o.Out);

            if (o.Afl is { } aflTarget)
            {
                var t = all.FirstOrDefault(x => x.Name == aflTarget) ?? throw new ArgumentException($"--afl: unknown target '{aflTarget}'");
                if (o.AflInput != null) AflMode.WriteInput(t, o.AflInput);
                else AflMode.Run(t, runner);
                return 0;
            }

            if (o.Replay is var (replayTarget, replayIndex))
            {
                var t = all.FirstOrDefault(x => x.Name == replayTarget) ?? throw new ArgumentException($"--replay: unknown target '{replayTarget}'");
                var m = runner.MakeCase(t, o.Seed, replayIndex);
                var (v, _) = runner.Execute(t, m);
                Console.WriteLine($"{t.Name}:{replayIndex} {m}");
                Console.WriteLine(v == null ? "HUNG" : $"{v.Kind}: {v.Category}\n{v.Message}");
                return v is { Kind: not VerdictKind.Defect } ? 0 : 1;
            }

            var clock = Stopwatch.StartNew();
            foreach (var r in Regressions.All.Where(r => targets.Any(t => t.Name == r.Target)))
            {
                var t = targets.First(x => x.Name == r.Target);
                var original = File.ReadAllBytes(Path.Combine(t.SeedFolder, r.File));
                var (v, folder) = runner.Execute(t, new Mutation(r.File, r.Edit(original), [r.Name]));
                var ok = v != null && v.Kind != VerdictKind.Defect && (!r.MustReject || v.Kind == VerdictKind.Rejected);
                report.RegressionResults.Add(new(r.Name, r.Target, v?.Kind.ToString() ?? "Hung", v?.Category ?? "hang", ok));
                log($"regression {(ok ? "ok    " : "FAILED")} {r.Name}: {v?.Kind.ToString() ?? "hung"} ({v?.Category ?? folder})");
                if (v == null) report.Hung = true;
            }

            Directory.CreateDirectory(outDir);
            var lastCase = Path.Combine(outDir, "last-case.txt");
            report.OpenFilesBefore = OpenFiles();
            var index = new long[targets.Count];
            var nextProgress = 10.0;
            var saved = 0;
            while (!report.Hung && clock.Elapsed.TotalSeconds < o.Seconds && (o.MaxCases == null || report.TotalCases < o.MaxCases))
            {
                var ti = (int)(report.TotalCases % targets.Count);
                var t = targets[ti];
                var caseIndex = index[ti]++;
                // If the process dies (a native fault, a fatal out-of-memory), this names the case that did it.
                var replay = $"awq-fuzz --seed {o.Seed} --replay {t.Name}:{caseIndex}";
                File.WriteAllText(lastCase, replay + "\n");
                var m = runner.MakeCase(t, o.Seed, caseIndex);
                File.WriteAllText(lastCase, $"{replay}\n{m}\n");
                var (v, folder) = runner.Execute(t, m);
                if (v == null)
                {
                    report.Hung = true;
                    report.Findings.Add(new(t.Name, caseIndex, m.ToString(), "hang", $"no result after {o.CaseTimeoutSeconds} s", folder));
                    break;
                }
                report.Count(t.Name, v);
                if (v.Kind == VerdictKind.Defect)
                {
                    string? into = null;
                    var isNew = report.Findings.All(f => f.Category != v.Category);
                    if (isNew && saved++ < 30)
                    {
                        into = Path.Combine(outDir, "findings", $"{t.Name}-{caseIndex}");
                        CaseRunner.Save(t, m, into, $"awq-fuzz --seed {o.Seed} --replay {t.Name}:{caseIndex}\n{m}\n{v.Category}\n{v.Message}\n");
                    }
                    if (isNew || report.Findings.Count < 200) report.Findings.Add(new(t.Name, caseIndex, m.ToString(), v.Category, v.Message, into));
                }
                if (clock.Elapsed.TotalSeconds >= nextProgress)
                {
                    nextProgress += 10;
                    log($"fuzz: {report.TotalCases:N0} cases ({report.TotalCases / clock.Elapsed.TotalSeconds:F0}/s), {report.Findings.Count} findings, {clock.Elapsed.TotalSeconds:F0}/{o.Seconds:F0} s");
                }
            }
            File.Delete(lastCase);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            report.OpenFilesAfter = OpenFiles();
            report.PeakRssMiB = Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0;
            report.Seconds = clock.Elapsed.TotalSeconds;

            if (o.Json) Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            else if (!o.Quiet || !report.Passed) report.Print(Console.Out);
            else Console.WriteLine(report.SummaryLine());
            if (report.Hung) Environment.Exit(3); // a hung loader thread cannot be stopped: leave without waiting for it
            return report.Passed ? 0 : 1;
        }
        catch (Exception e) when (e is ArgumentException or DirectoryNotFoundException or FileNotFoundException && e.TargetSite?.DeclaringType?.Assembly == typeof(FuzzOptions).Assembly)
        {
            Console.Error.WriteLine($"awq-fuzz: error: {e.Message}");
            return 2;
        }
        finally
        {
            try
            {
                if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static int OpenFiles()
    {
        try
        {
            return Directory.GetFiles("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
