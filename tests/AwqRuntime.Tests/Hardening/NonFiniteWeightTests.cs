using System.Buffers.Binary;
using AwqRuntime.Formats.Llama2c;
using AwqRuntime.Model;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Hardening;

/// <summary>NaN or ±Inf in float weights used to load silently; now loading refuses them, naming the tensor, unless allowed.</summary>
public class NonFiniteWeightTests
{
    private const int HeaderBytes = 28;

    /// <summary>stories260K.bin with float <paramref name="index"/> (counted from the first weight) set to <paramref name="value"/>.</summary>
    private static string Corrupt(TempDir dir, long index, float value)
    {
        var bytes = File.ReadAllBytes(SharedData.Stories260KBin);
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)(HeaderBytes + 4 * index)), value);
        var path = dir.File("bad.bin");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData(0L, float.NaN, "NaN")]
    [InlineData(512L * 64 + 5 * 64 + 7, float.PositiveInfinity, "+Inf")] // wq of layer 0, after embedding and rms_att
    public void A_non_finite_weight_is_refused_naming_the_tensor(long index, float value, string shown)
    {
        using var dir = new TempDir("nan");
        var path = Corrupt(dir, index, value);
        using var src = Llama2cWeightSource.Open(path);
        var e = Assert.Throws<InvalidDataException>(() => LlamaModel.FromWeights(src));
        Assert.Contains(path, e.Message);
        Assert.Contains(index == 0 ? LlamaTensorNames.Embedding : LlamaTensorNames.Linear(0, LinearKind.QProj), e.Message);
        Assert.Contains(shown, e.Message);
        Assert.Contains("--allow-nonfinite", e.Message);

        src.AllowNonFinite = true;
        Assert.NotNull(LlamaModel.FromWeights(src));
    }

    [Fact]
    public void The_cli_refuses_it_unless_allow_nonfinite_is_given()
    {
        using var dir = new TempDir("nan-cli");
        var path = Corrupt(dir, 100, float.NaN);
        AwqCli.FailWithOneLine($"tensor '{LlamaTensorNames.Embedding}' holds NaN at element 100", "generate", path, "--tokenizer", SharedData.Tok512, "-n", "2");
        AwqCli.Succeed("generate", path, "--tokenizer", SharedData.Tok512, "-n", "2", "--temp", "0", "--quiet", "--allow-nonfinite");
    }

    /// <summary>The exports take the flag too: a corrupt checkpoint can still be converted on purpose (in f32, which keeps the NaN).</summary>
    [Fact]
    public void The_exports_refuse_it_unless_allow_nonfinite_is_given()
    {
        using var dir = new TempDir("nan-export");
        var path = Corrupt(dir, 100, float.NaN);
        AwqCli.FailWithOneLine("--allow-nonfinite", "export-gguf", path, "--tokenizer", SharedData.Tok512, "--out", dir.File("x.gguf"));
        AwqCli.FailWithOneLine("--allow-nonfinite", "export-hf", path, "--tokenizer", SharedData.Tok512, "--out", dir.File("x-hf"), "--dtype", "f32");
        AwqCli.Succeed("export-gguf", path, "--tokenizer", SharedData.Tok512, "--out", dir.File("x.gguf"), "--allow-nonfinite");
        AwqCli.Succeed("export-hf", path, "--tokenizer", SharedData.Tok512, "--out", dir.File("x-hf"), "--dtype", "f32", "--allow-nonfinite");
        Assert.True(File.Exists(dir.File("x.gguf")));
        Assert.True(File.Exists(Path.Combine(dir.File("x-hf"), "model.safetensors")));
    }

    [Fact]
    public void The_scan_finds_the_first_non_finite_value_in_vector_body_and_tail()
    {
        foreach (var n in new[] { 1, 7, 8, 16, 33, 1000 })
            for (var at = 0; at < n; at += Math.Max(1, n / 7))
                foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    var v = Enumerable.Range(0, n).Select(i => i * 0.5f - 3).ToArray();
                    Assert.Equal(-1, NonFiniteCheck.FirstNonFinite(v));
                    v[at] = bad;
                    if (at + 1 < n) v[n - 1] = float.NaN;
                    Assert.Equal(at, NonFiniteCheck.FirstNonFinite(v));
                }
        Assert.Equal(-1, NonFiniteCheck.FirstNonFinite(new[] { float.MaxValue, float.MinValue, float.Epsilon, -0f }));
    }

    [Fact]
    public void Fp16_bits_with_an_all_ones_exponent_are_non_finite()
    {
        Assert.Equal(-1, NonFiniteCheck.FirstNonFinite(new ushort[] { 0x0000, 0x7BFF, 0xFBFF, 0x0001, 0x3C00 }));
        Assert.Equal(1, NonFiniteCheck.FirstNonFinite(new ushort[] { 0x3C00, 0x7C00 }));  // +Inf
        Assert.Equal(0, NonFiniteCheck.FirstNonFinite(new ushort[] { 0xFC00 }));          // -Inf
        Assert.Equal(2, NonFiniteCheck.FirstNonFinite(new ushort[] { 0, 0, 0x7E00 }));    // NaN
    }
}
