using System.Runtime.InteropServices;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Formats;

/// <summary>`awq calibrate --imatrix`: llama.cpp's imatrix GGUF layout, with Σx² checked against an independent computation.</summary>
public class ImatrixTests
{
    /// <summary>stories260K's calibration statistics over 4 × 64 tokens of the calibration text (RTN with --stats).</summary>
    internal static (QuantizationResult Result, CalibrationSet Calibration) RtnStatistics(IWeightSource src)
    {
        var tok = Tokenizer.FromSpec(TokenizerFiles.Read(SharedData.Tok512, 512));
        var calib = CalibrationSet.FromText(File.ReadAllText(SharedData.CalibText), t => tok.Encode(t, addBos: true), 4, 64, "tinystories_calib.txt");
        return (AwqQuantizer.Quantize(src, calib, new AwqConfig { Method = QuantMethod.Rtn, CaptureStatistics = true }), calib);
    }

    [Fact]
    public void The_imatrix_holds_llama_cpp_keys_names_and_the_sum_of_squares_of_each_input()
    {
        using var src = CheckpointLoader.Open(SharedData.Stories260KBin);
        var (r, calib) = RtnStatistics(src);
        using var dir = new TempDir("imatrix");
        var path = dir.File("imatrix.gguf");
        ImatrixWriter.Write(path, r.ActivationStats, calib.Source, calib.SeqLen);

        using var g = GgufFile.Open(path);
        Assert.Equal("imatrix", g.GetString("general.type"));
        Assert.Equal(["tinystories_calib.txt"], (string[])g.Get("imatrix.datasets").Value);
        Assert.Equal(4, g.GetInteger("imatrix.chunk_count"));
        Assert.Equal(64, g.GetInteger("imatrix.chunk_size"));
        var c = src.Config;
        Assert.Equal(c.NumLayers * 7 * 2, g.Tensors.Count);
        // Entries in sorted name order, each its in_sum2 then its counts (as save_imatrix writes them).
        var entries = g.Tensors.Where((_, i) => i % 2 == 0).Select(t => t.Name[..^".in_sum2".Length]).ToList();
        Assert.Equal(entries.Order(StringComparer.Ordinal), entries);
        Assert.Equal(entries.Select(e => e + ".counts"), g.Tensors.Where((_, i) => i % 2 == 1).Select(t => t.Name));
        float[] Floats(string name) => MemoryMarshal.Cast<byte, float>(g.TensorBytes(g.GetTensor(name))).ToArray();
        Assert.Equal([256f], Floats("blk.4.ffn_down.weight.counts"));
        Assert.Equal([172L, 1], g.GetTensor("blk.4.ffn_down.weight.in_sum2").Dims); // ne0 = in_features, ne1 = 1 matrix
        Assert.Equal([1L, 1], g.GetTensor("blk.4.ffn_down.weight.counts").Dims);

        // Block 0's attention input is RMSNorm(embedding)·attn_norm: its Σx² per channel, in float64.
        var d = c.HiddenSize;
        var emb = LlamaModel.ReadVector(src, LlamaTensorNames.Embedding, (long)c.VocabSize * d);
        var norm = LlamaModel.ReadVector(src, LlamaTensorNames.AttnNorm(0), d);
        var expected = new double[d];
        foreach (var s in calib.Samples)
            foreach (var t in s)
            {
                double ms = 0;
                for (var j = 0; j < d; j++) ms += (double)emb[t * d + j] * emb[t * d + j];
                var inv = 1 / Math.Sqrt(ms / d + c.RmsNormEps);
                for (var j = 0; j < d; j++)
                {
                    var v = emb[t * d + j] * inv * norm[j];
                    expected[j] += v * v;
                }
            }
        foreach (var name in new[] { "blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight" })
        {
            var got = Floats(name + ".in_sum2");
            for (var j = 0; j < d; j++)
                Assert.True(Math.Abs(got[j] - expected[j]) <= 1e-4 * expected[j] + 1e-6, $"{name}[{j}] = {got[j]}, expected {expected[j]}");
        }
    }

    [Fact]
    public void Calibrate_cli_writes_an_imatrix_gguf()
    {
        using var dir = new TempDir("imatrix-cli");
        var path = dir.File("out.gguf");
        AwqCli.Succeed("calibrate", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--calib-samples", "2", "--calib-seqlen", "32", "--imatrix", path);
        using var g = GgufFile.Open(path);
        Assert.Equal(2, g.GetInteger("imatrix.chunk_count"));
        Assert.True(g.TryGetTensor("blk.0.ffn_gate.weight.in_sum2", out _));
    }
}
