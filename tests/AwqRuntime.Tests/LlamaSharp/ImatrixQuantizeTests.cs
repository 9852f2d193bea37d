using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Quantization;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.LlamaSharp;

/// <summary>
/// Our calibration statistics as llama.cpp's importance matrix: read back as llama-quantize reads them
/// (in_sum2 / counts), handed to llama.cpp's quantizer (`awq export-gguf --type … --imatrix`), where
/// they change the chosen blocks and lower the KL divergence of the result.
/// </summary>
public class ImatrixQuantizeTests
{
    [Fact]
    public void The_reader_gives_the_mean_square_per_column_under_gguf_names()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var (r, calib) = ImatrixTests.RtnStatistics(src);
        using var dir = new TempDir("imatrix-read");
        var path = dir.File("imatrix.gguf");
        ImatrixWriter.Write(path, r.ActivationStats, calib.Source, calib.SeqLen);

        var read = ImatrixReader.Read(path);
        Assert.Equal(r.ActivationStats.Count, read.Count);
        // What compare hands llama.cpp without a file is what llama-quantize reads from one.
        var direct = ImatrixWriter.Importance(r.ActivationStats);
        Assert.Equal(read.Keys.Order(), direct.Keys.Order());
        foreach (var (name, values) in read)
            for (var i = 0; i < values.Length; i++) Assert.Equal(values[i], direct[name][i], values[i] * 1e-6f);
        foreach (var (module, stats) in r.ActivationStats)
        {
            var values = read[GgufTensorNames.ToGguf(module + ".weight")];
            var expected = stats.SumSquare().Select(s => s / stats.Count).ToArray();
            Assert.Equal(expected.Length, values.Length);
            for (var i = 0; i < values.Length; i++) Assert.Equal(expected[i], values[i], expected[i] * 1e-6f);
        }
    }

    [Fact]
    public void A_file_that_is_not_an_imatrix_is_refused_naming_it()
    {
        var e = Assert.Throws<InvalidDataException>(() => ImatrixReader.Read(SharedData.Stories260KGguf));
        Assert.Contains(SharedData.Stories260KGguf, e.Message);
        Assert.Contains("imatrix", e.Message);
    }

    private static double Kld(string gguf)
    {
        var r = AwqCli.Succeed("eval", gguf, "--ref", SharedData.Stories260KBin, "--ref-tokenizer", SharedData.Tok512, "--data", SharedData.EvalText,
            "--chunks", "60", "--json");
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("comparison").GetProperty("mean_kld").GetDouble();
    }

    /// <summary>
    /// Q4_K_M of stories260K with and without our imatrix: llama.cpp takes it (the files differ) and the
    /// KLD against FP32 drops (all 259 windows: 0.0223 → 0.0186, measured 2026-12-03); an imatrix with a
    /// type AwqRuntime writes itself is refused.
    /// </summary>
    [Fact]
    public void Llama_cpp_quantizes_with_our_imatrix_and_the_kld_drops()
    {
        using var dir = new TempDir("imatrix-quant");
        var imatrix = dir.File("stories.imatrix.gguf");
        AwqCli.Succeed("calibrate", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--imatrix", imatrix, "--calib", SharedData.CalibText,
            "--calib-samples", "32", "--calib-seqlen", "256");
        string Export(string name, params string[] extra)
        {
            var path = dir.File(name);
            AwqCli.Succeed(["export-gguf", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--type", "q4_k_m", "--out", path, .. extra]);
            return path;
        }
        var plain = Export("plain.gguf");
        var weighted = Export("imatrix.gguf", "--imatrix", imatrix);
        Assert.False(File.ReadAllBytes(plain).AsSpan().SequenceEqual(File.ReadAllBytes(weighted)), "the imatrix changed nothing");
        var (without, with) = (Kld(plain), Kld(weighted));
        Assert.True(with < without, $"KLD with the imatrix {with:F5}, without {without:F5}");

        AwqCli.FailWithOneLine("--imatrix goes to llama.cpp's quantizer",
            "export-gguf", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--type", "f16", "--out", dir.File("x.gguf"), "--imatrix", imatrix);
    }

    /// <summary>`awq compare --rows imatrix:TYPE`: the row is llama.cpp's TYPE made with our calibration's importance matrix, next to the plain one.</summary>
    [Fact]
    public void Compare_rows_with_our_imatrix_score_below_the_plain_ones()
    {
        using var dir = new TempDir("imatrix-compare");
        var r = AwqCli.Succeed("compare", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--data", SharedData.EvalText, "--calib", SharedData.CalibText,
            "--calib-samples", "32", "--calib-seqlen", "256", "--rows", "Q4_K_M", "imatrix:Q4_K_M", "--chunks", "20", "--no-speed", "--json",
            "--work", dir.File("work"), "--threads", "2");
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(x => x.GetProperty("name").GetString()!, x => x);
        var plain = rows["Q4_K_M"].GetProperty("mean_kld").GetDouble();
        var weighted = rows["Q4_K_M + imatrix"].GetProperty("mean_kld").GetDouble();
        Assert.True(weighted < plain, $"Q4_K_M + imatrix {weighted:F5} vs Q4_K_M {plain:F5}");
        Assert.Equal(rows["Q4_K_M"].GetProperty("file_bytes").GetInt64(), rows["Q4_K_M + imatrix"].GetProperty("file_bytes").GetInt64());
        AwqCli.FailWithOneLine("is not a llama-quantize type", "compare", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512,
            "--data", SharedData.EvalText, "--rows", "imatrix:Q9_9");
    }
}
