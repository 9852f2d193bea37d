using System.Text.Json;
using AwqRuntime.Comparison.Bench;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Tests.Acceptance;

namespace AwqRuntime.Tests.Compare;

/// <summary>
/// `awq bench`: the rows it measures and the numbers it derives (bytes per token, roofline). Speed
/// itself is never asserted here (BENCHMARKS.md records it); what is asserted is that every row ran
/// and that the byte counts agree with an independent count.
/// </summary>
public class BenchTests
{
    [Fact]
    public void Bytes_per_token_of_our_fp32_model_equal_those_of_the_f32_gguf_it_was_loaded_from()
    {
        // stories260K.gguf is all F32 and carries output.weight beside token_embd.weight: a decode step
        // reads every tensor but the embedding, and one embedding row (64 floats).
        using var m = AwqModel.FromPretrained(SharedData.Stories260KGguf);
        using var f = GgufFile.Open(SharedData.Stories260KGguf);
        Assert.All(f.Tensors, t => Assert.Equal(AwqRuntime.Formats.TensorDType.F32, t.Type));
        Assert.Contains(f.Tensors, t => t.Name == "output.weight");
        var independent = (f.Tensors.Sum(t => t.ElementCount) - 512 * 64 + 64) * sizeof(float);
        Assert.Equal(independent, BytesPerToken.Of(SharedData.Stories260KGguf));
        Assert.Equal(independent, BytesPerToken.Of(m.Model));
    }

    [Fact]
    public void Read_bandwidth_is_a_positive_rate_and_bad_arguments_are_refused()
    {
        var bw = ReadBandwidth.Measure(1, 16L << 20, 2);
        Assert.True(double.IsFinite(bw) && bw > 0, $"{bw}");
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidth.Measure(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidth.Measure(1, 1024));
    }

    [Fact]
    public void Roofline_percent_is_decode_rate_times_bytes_over_bandwidth()
    {
        var row = new BenchRow("x", "ours", 1, 250_000_000, 100, 40, 20e9);
        Assert.Equal(50.0, row.DecodeRooflinePercent!.Value, 9);
        Assert.Null((row with { BandwidthBytesPerSecond = null }).DecodeRooflinePercent);
    }

    [Fact]
    public void Bench_of_a_full_precision_model_runs_ours_on_both_kernels_and_llama_cpp_on_q4_0_and_q4_k_m()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"awq-bench-{Guid.NewGuid():N}");
        try
        {
            AwqCli.Succeed("synth", "--preset", "tiny", "--out", dir);
            var r = AwqCli.Run(TimeSpan.FromMinutes(5), "bench", dir, "--threads", "1", "--prompt", "16", "--gen", "4", "--runs", "1", "--json");
            Assert.True(r.ExitCode == 0, r.ToString());
            using var doc = JsonDocument.Parse(r.Stdout);
            var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToList();
            // W4A8 runs repacked weights where this CPU's kernel reads them (AVX2 only), and says so
            var w4a8 = AwqRuntime.Native.Kernels.W4A8RepackPreferred ? "W4A8 (repacked)" : "W4A8";
            Assert.Equal(["ours W4A16, RTN g128", $"ours {w4a8}, RTN g128", "llama.cpp Q4_0", "llama.cpp Q4_K_M"],
                rows.Select(x => x.GetProperty("name").GetString()!).ToArray());
            foreach (var x in rows)
            {
                Assert.Equal(1, x.GetProperty("threads").GetInt32());
                Assert.True(x.GetProperty("prefill_tokens_per_second").GetDouble() > 0, x.ToString());
                Assert.True(x.GetProperty("decode_tokens_per_second").GetDouble() > 0, x.ToString());
                Assert.Equal(JsonValueKind.Null, x.GetProperty("decode_roofline_percent").ValueKind);
            }
            var bytes = rows.Select(x => x.GetProperty("bytes_per_token").GetInt64()).ToArray();
            Assert.Equal(bytes[0], bytes[1]); // two kernels, the same packed weights
            // Ours: the same count as the RTN g128 model made in process the way bench makes it.
            using (var m = AwqModel.FromPretrained(dir))
            {
                m.Quantize(AwqRuntime.Quantization.CalibrationSet.None, new AwqRuntime.Quantization.AwqConfig { GroupSize = 128, Method = AwqRuntime.Quantization.QuantMethod.Rtn });
                Assert.Equal(BytesPerToken.Of(m.Model), bytes[0]);
            }
            // llama.cpp's 4-bit files read less than the fp16 checkpoint holds.
            var fp16 = new DirectoryInfo(dir).GetFiles("*.safetensors").Sum(f => f.Length);
            Assert.All(bytes[2..], b => Assert.InRange(b, 1, fp16 - 1));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bench_refuses_bad_arguments_with_one_line()
    {
        AwqCli.FailWithOneLine("--threads", "bench", SharedData.Stories260KGguf, "--threads", "0");
        AwqCli.FailWithOneLine("--prompt", "bench", SharedData.Stories260KGguf, "--prompt", "4096");
        AwqCli.FailWithOneLine("missing.gguf", "bench", SharedData.Stories260KGguf, "--vs", "missing.gguf");
        AwqCli.FailWithOneLine("--kernel", "bench", SharedData.Stories260KGguf, "--kernel", "w4a4");
    }
}
