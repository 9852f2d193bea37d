using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AwqRuntime.Backends;
using AwqRuntime.Comparison;
using AwqRuntime.Comparison.Bench;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>
/// `awq bench MODEL`: prefill and decode tokens/s of our runtime and, in the same run on the same
/// prompt tokens, llama.cpp (LLamaSharp) on GGUF files of the same model — llama-bench's pp/tg tests.
/// A full-precision MODEL is quantized RTN (speed does not depend on the scales chosen) at
/// --group-size in memory, and exported to Q4_0 and Q4_K_M with llama.cpp's quantizer (the path
/// `awq compare` uses) unless --vs names GGUF files. An INT4 checkpoint is run as it is.
/// --roofline measures the read bandwidth first and gives each row's decode as a share of
/// bandwidth ÷ bytes per token.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var threads = new Option<string>("--threads", "-t") { Description = "Thread counts, comma-separated (default: 1 and all processors)" };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens of the prefill test (pp)", DefaultValueFactory = _ => 512 };
        var gen = new Option<int>("--gen") { Description = "Generated tokens of the decode test (tg)", DefaultValueFactory = _ => 128 };
        var runs = new Option<int>("--runs") { Description = "Timed runs per test after one warm-up (the median is reported)", DefaultValueFactory = _ => 3 };
        var vs = new Option<string[]>("--vs") { Description = "GGUF files to run with llama.cpp in the same run (default for a full-precision model: its Q4_0 and Q4_K_M)", AllowMultipleArgumentsPerToken = true };
        var kernels = new Option<string>("--kernel") { Description = "Our INT4 kernels to run, comma-separated: w4a16, w4a8", DefaultValueFactory = _ => "w4a16,w4a8" };
        var runtime = new RuntimeChoices();
        var groupSize = new Option<int>("--group-size") { Description = "Group size of the RTN model made from a full-precision MODEL", DefaultValueFactory = _ => 128 };
        var roofline = new Option<bool>("--roofline") { Description = "Measure this machine's read bandwidth and show decode as a % of bandwidth ÷ bytes per token" };
        var quiet = CliOptions.Quiet();
        var json = CliOptions.Json();
        var cmd = new Command("bench", "Prefill and decode speed against llama.cpp on the same CPU, in one run")
        {
            model, tokenizer, threads, prompt, gen, runs, vs, kernels, runtime.Classifier, runtime.Device, groupSize, roofline, quiet, json,
        };
        cmd.SetAction((parse, cancel) => Task.FromResult(CliErrors.Run(() =>
        {
            var threadCounts = ParseList(parse.GetValue(threads) ?? $"1,{Environment.ProcessorCount}", "--threads", 1, 1024).Distinct().ToArray();
            var kernelList = (parse.GetValue(kernels) ?? "w4a16").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(Int4Kernels.Parse).Distinct().ToArray();
            var p = parse.GetValue(prompt);
            var g = parse.GetValue(gen);
            var r = parse.GetValue(runs);
            if (p < 1) throw new ArgumentException($"--prompt must be at least 1 (got {p})");
            if (g < 1) throw new ArgumentException($"--gen must be at least 1 (got {g})");
            if (r is < 1 or > 100) throw new ArgumentException($"--runs must be in 1..100 (got {r})");
            var ggufs = parse.GetValue(vs) ?? [];
            foreach (var f in ggufs)
                if (!File.Exists(f)) throw new FileNotFoundException($"{f}: GGUF file not found (--vs)", f);
            var silent = parse.GetValue(quiet) || parse.GetValue(json);
            void Say(string s) { if (!silent) Console.Error.WriteLine(s); }

            var modelPath = parse.GetValue(model)!;
            using var m = AwqModel.Load(modelPath, parse.GetValue(tokenizer));
            if (p > m.Config.MaxPositionEmbeddings) throw new ArgumentException($"--prompt {p} exceeds the model's context of {m.Config.MaxPositionEmbeddings} tokens");
            if (g + 1 > m.Config.MaxPositionEmbeddings) throw new ArgumentException($"--gen {g} exceeds the model's context of {m.Config.MaxPositionEmbeddings} tokens");
            var work = Path.Combine(Path.GetTempPath(), $"awq-bench-{Guid.NewGuid():N}");
            try
            {
                var group = parse.GetValue(groupSize);
                string what;
                // A llama.cpp Q4_0 GGUF already runs as INT4 g32 on our kernels (its Q4_0 blocks as stored, other tensors as loaded):
                // benchmark those very weights against llama.cpp running the same file.
                var ggufInt4 = m.Format == AwqRuntime.Formats.CheckpointFormat.Gguf &&
                               m.Model.Blocks.Any(b => LinearKinds.All.Any(k => b[k] is Int4Linear));
                if (ggufInt4)
                {
                    if (ggufs.Length == 0) ggufs = [modelPath];
                    what = "GGUF Q4 blocks, INT4 g32";
                }
                else if (!m.IsQuantized)
                {
                    // The GGUF files first, while the model is still full precision.
                    if (ggufs.Length == 0) ggufs = MakeGgufs(m, work, ["Q4_0", "Q4_K_M"], Say);
                    Say($"quantizing RTN g{group} in memory");
                    m.Quantize(CalibrationSet.None, new AwqConfig { GroupSize = group, Method = QuantMethod.Rtn });
                    what = $"RTN g{group}";
                }
                else what = m.Quantization is { } q ? $"INT{q.Bits} g{q.GroupSize}" : m.PackQuantized is { } pq ? $"INT{pq.Bits} g{pq.GroupSize} (pack-quantized)" : "W8A8";
                // 2-, 3- and 8-bit linears have one kernel (awq_wna16_gemm): --kernel picks among the INT4 ones
                var nbit = m.Model.Blocks.Any(b => LinearKinds.All.Any(k => b[k] is NBitLinear));
                if (nbit) kernelList = [Int4Kernel.W4A16];
                // --kernel picks among INT4 kernels only: a model without INT4 linears (W8A8) runs once
                var int4 = m.Model.Blocks.Any(b => LinearKinds.All.Any(k => b[k] is Int4Linear)) || m.Model.Output is Int4Linear;
                if (!nbit && !int4) kernelList = [Int4Kernel.W4A16];
                if (runtime.ApplyClassifier(parse, m) is { } chosen) what += ", " + chosen;

                // On a GPU our INT4 linears run W4A16 (the device has one INT4 kernel); the llama.cpp rows stay on the CPU, for reference.
                var backend = runtime.OpenDevice(parse);
                var device = backend is DeviceBackend db ? ComputeDevices.Info(db.Device, db.Ordinal) : null;
                var ours = device == null
                    ? kernelList.Select(k => BenchRunner.Ours(nbit || int4 ? $"ours {(nbit ? "WNA16" : KernelLabel(k))}, {what}" : $"ours {what}", m.Model.WithInt4Kernel(k), g, r))
                    : [BenchRunner.Ours($"ours {(int4 ? "W4A16, " : "")}{what}, {device.Id}", m.Model.WithInt4Kernel(Int4Kernel.W4A16).WithBackend(backend), g, r, runtime: "ours-" + device.Id)];
                var subjects = ours.Concat(ggufs.Select(f => BenchRunner.LlamaCpp($"llama.cpp {GgufTypeLabel(f)}", f, g, r))).ToList();
                var rng = new Random(1234);
                var tokens = new[] { Math.Max(m.Tokenizer.Spec.BosId, 0) }.Concat(Enumerable.Range(0, p - 1).Select(_ => rng.Next(3, m.Config.VocabSize))).ToArray();
                var first = Math.Max(m.Tokenizer.Spec.BosId, 0);
                var clock = Stopwatch.StartNew();
                var rows = BenchRunner.Run(subjects, threadCounts, tokens, first, parse.GetValue(roofline), new Progress(Say), cancel);
                if (device != null)
                {
                    // a GPU row's roofline is the card's peak memory bandwidth, not the host's
                    rows = rows.Select(x => x.Runtime == "ours-" + device.Id
                        ? x with { BandwidthBytesPerSecond = device.PeakBandwidthBytesPerSecond > 0 ? device.PeakBandwidthBytesPerSecond : null }
                        : x).ToList();
                    Say(FormattableString.Invariant($"{device.Id}: {device.Name}, {device.TotalBytes / 1073741824.0:F1} GiB, compute capability {device.ComputeCapability}, peak memory bandwidth {device.PeakBandwidthBytesPerSecond / 1e9:F0} GB/s"));
                }
                var machine = MachineInfo.Collect();
                var load = MachineInfo.LoadAverage();
                if (parse.GetValue(json))
                {
                    CliOptions.PrintJson(new
                    {
                        model = modelPath, ours = what, device = device?.Id ?? "cpu", device_name = device?.Name, prompt_tokens = p, gen_tokens = g, runs = r, machine = machine.ToString(), simd = machine.OursSimdPath,
                        load_average = load, seconds = clock.Elapsed.TotalSeconds,
                        rows = rows.Select(x => new
                        {
                            name = x.Name, runtime = x.Runtime, threads = x.Threads, bytes_per_token = x.BytesPerToken,
                            prefill_tokens_per_second = x.PrefillTokensPerSecond, decode_tokens_per_second = x.DecodeTokensPerSecond,
                            read_bandwidth_bytes_per_second = x.BandwidthBytesPerSecond, decode_roofline_percent = x.DecodeRooflinePercent,
                        }),
                    });
                    return 0;
                }
                Print(rows, machine, load, p, g, r);
                return 0;
            }
            finally
            {
                try { if (Directory.Exists(work)) Directory.Delete(work, recursive: true); }
                catch (IOException) { /* a temp folder left behind is not worth failing the run */ }
            }
        })));
        return cmd;
    }

    private sealed class Progress(Action<string> say) : IProgress<string>
    {
        public void Report(string value) => say(value);
    }

    /// <summary>The full-precision model in each llama.cpp type, made as `awq compare` makes its baselines.</summary>
    private static string[] MakeGgufs(AwqModel m, string work, string[] types, Action<string> say)
    {
        Directory.CreateDirectory(work);
        return types.Select(t =>
        {
            say($"llama.cpp quantizing to {t}");
            var dst = Path.Combine(work, $"model-{t.ToLowerInvariant()}.gguf");
            ExportCommands.QuantizeWithLlamaCpp(m, dst, t, fallbackPlan: true);
            return dst;
        }).ToArray();
    }

    /// <summary>A row's kernel: W4A8 says when its weights run repacked for the AVX2 kernel (this CPU's choice, AWQ_W4A8_REPACK).</summary>
    private static string KernelLabel(Int4Kernel k) =>
        k == Int4Kernel.W4A8 && AwqRuntime.Native.Kernels.W4A8RepackPreferred ? "W4A8 (repacked)" : k.Name().ToUpperInvariant();

    /// <summary>"Q4_0", "Q4_K_M" … from general.file_type, else the file name.</summary>
    private static string GgufTypeLabel(string path)
    {
        using var f = GgufFile.Open(path);
        return f.GetIntegerOrNull("general.file_type") is { } ft && LlamaFileTypes.NameOf((int)ft) is { } name ? name : Path.GetFileName(path);
    }

    private static IEnumerable<int> ParseList(string text, string flag, int min, int max) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
            int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                ? n
                : throw new ArgumentException($"{flag}: '{s}' is not a count in {min}..{max}"));

    private static void Print(IReadOnlyList<BenchRow> rows, MachineInfo machine, double? load, int p, int g, int r)
    {
        static string F(double v, string f = "F1") => double.IsNaN(v) ? "—" : v.ToString(f, CultureInfo.InvariantCulture);
        var roof = rows.Any(x => x.BandwidthBytesPerSecond != null);
        var table = new Table().Title(Markup.Escape($"tokens/s, median of {r} runs after a warm-up; roofline = tg t/s × MB/tok ÷ read bandwidth"))
            .AddColumn(new TableColumn("thr").RightAligned()).AddColumn("runtime, format")
            .AddColumn(new TableColumn("MB/tok").RightAligned())
            .AddColumn(new TableColumn($"pp{p} t/s").RightAligned()).AddColumn(new TableColumn($"tg{g} t/s").RightAligned())
            .AddColumn(new TableColumn("tg / llama.cpp").RightAligned());
        if (roof) table.AddColumn(new TableColumn("roofline").RightAligned());
        foreach (var x in rows)
        {
            // The first llama.cpp row at the same thread count is the yardstick (Q4_0 by default).
            var yard = rows.FirstOrDefault(y => y.Runtime == "llama.cpp" && y.Threads == x.Threads);
            var cells = new List<string>
            {
                x.Threads.ToString(CultureInfo.InvariantCulture), x.Name, F(x.BytesPerToken / 1e6),
                F(x.PrefillTokensPerSecond), F(x.DecodeTokensPerSecond),
                yard != null && !ReferenceEquals(yard, x) ? F(x.DecodeTokensPerSecond / yard.DecodeTokensPerSecond, "F2") + "x" : "—",
            };
            if (roof) cells.Add(x.DecodeRooflinePercent is { } pc ? F(pc, "F0") + "%" : "—");
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        CliOptions.Status.Write(table);
        var bw = rows.Where(x => x.BandwidthBytesPerSecond != null && !x.Runtime.StartsWith("ours-", StringComparison.Ordinal)).GroupBy(x => x.Threads)
            .Select(gr => FormattableString.Invariant($"{gr.Key} thr {gr.First().BandwidthBytesPerSecond / 1e9:F1} GB/s")).ToList();
        Console.Error.WriteLine($"machine: {machine}; SIMD {machine.OursSimdPath}" + (load is { } l ? FormattableString.Invariant($"; load average {l:F2}") : ""));
        if (bw.Count > 0) Console.Error.WriteLine("read bandwidth: " + string.Join(", ", bw));
        if (rows.FirstOrDefault(x => x.Runtime.StartsWith("ours-", StringComparison.Ordinal)) is { BandwidthBytesPerSecond: { } gpu } gr)
            Console.Error.WriteLine(FormattableString.Invariant($"{gr.Runtime[5..]} roofline: the card's peak memory bandwidth, {gpu / 1e9:F0} GB/s"));
        Console.Error.WriteLine("ours: KV cache F32; llama.cpp: KV cache F16 (llama-bench's default); MB/token counts weights only");
    }
}
