using AwqRuntime.Formats.Awq;
using AwqRuntime.Model;
using AwqRuntime.Quantization;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Quantization;

/// <summary>The method seam: RTN reads no activations, AWQ does; both write the same checkpoint layout.</summary>
public class QuantizationMethodTests
{
    [Fact]
    public void Rtn_runs_no_calibration_and_rounds_the_same_weights_as_with_statistics()
    {
        using var src = new SyntheticWeightSource(SyntheticModel.PresetConfig("tiny", vocabSize: 512), seed: 2);
        var config = new AwqConfig { Method = QuantMethod.Rtn, GroupSize = 32 };
        var plain = AwqQuantizer.Quantize(src, CalibrationSet.None, config);
        Assert.Empty(plain.ActivationStats);
        Assert.Equal(TimeSpan.Zero, plain.CalibrationForward); // no calibration forward ran
        var withStats = AwqQuantizer.Quantize(src, ScaleFoldingTests.SmallCalibration(512), config with { CaptureStatistics = true });
        Assert.Equal(7 * src.Config.NumLayers, withStats.ActivationStats.Count);
        Assert.InRange(withStats.CalibrationForward, TimeSpan.FromTicks(1), withStats.Elapsed); // part of the run, not all of it
        for (var l = 0; l < src.Config.NumLayers; l++)
            foreach (var kind in LinearKinds.All)
            {
                var a = ((Int4Linear)plain.Model.Blocks[l][kind]).ToWeights();
                var b = ((Int4Linear)withStats.Model.Blocks[l][kind]).ToWeights();
                Assert.Equal(a.Q, b.Q);
                Assert.Equal(a.Scales, b.Scales);
                Assert.Equal(a.Zeros, b.Zeros);
            }
        Assert.Contains("needs calibration data", Assert.Throws<ArgumentException>(() => AwqQuantizer.Quantize(src, CalibrationSet.None, new AwqConfig())).Message);
    }

    [Fact]
    public void Quantize_cli_with_rtn_reads_no_calibration_text_and_writes_no_statistics()
    {
        using var dir = new TempDir("rtn-cli");
        var model = Path.Combine(dir.Path, "tiny");
        AwqCli.Succeed("synth", "--preset", "tiny", "--out", model);
        var outDir = Path.Combine(dir.Path, "rtn");
        // A calibration file that does not exist: RTN must not even look for it.
        var r = AwqCli.Succeed("quantize", model, "--method", "rtn", "--calib", dir.File("missing.txt"), "--out", outDir);
        Assert.Contains("calibration: none", r.Stderr + r.Stdout);
        Assert.False(File.Exists(Path.Combine(outDir, AwqCheckpointWriter.SearchFileName)));
        var (q, _) = AwqCheckpointReader.Load(outDir);
        Assert.IsType<Int4Linear>(q.Blocks[0].Down);
        var stats = AwqCli.Succeed("quantize", model, "--method", "rtn", "--stats", "--calib-samples", "2", "--calib-seqlen", "64", "--out", Path.Combine(dir.Path, "rtn-stats"));
        Assert.True(File.Exists(Path.Combine(dir.Path, "rtn-stats", AwqCheckpointWriter.SearchFileName)), stats.ToString());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(16)]
    public void Weight_bits_other_than_2_3_4_8_are_refused_up_front(int bits)
    {
        Assert.Contains($"w_bit {bits} is not supported", Assert.Throws<ArgumentException>(() => new AwqConfig { WBit = bits }.Validate()).Message);
        // the model does not exist: the option is refused before anything is read
        var r = AwqCli.Run("quantize", "nowhere", "--w-bit", bits.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", "x");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains($"--w-bit {bits} is not supported: use 2, 3, 4 or 8", r.Stderr);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Weight_bits_2_3_8_validate(int bits) => Assert.Equal(bits, new AwqConfig { WBit = bits }.Validate().WBit);

    [Theory]
    [InlineData("w8a8-dynamic")]
    [InlineData("w8a8-static")]
    public void Weight_bits_are_refused_for_methods_that_do_not_take_them(string method)
    {
        var r = AwqCli.Run("quantize", "nowhere", "--method", method, "--w-bit", "4", "--out", "x");
        Assert.Equal(1, r.ExitCode);
        Assert.Single(r.StderrLines);
        Assert.Contains($"--w-bit applies to rtn, awq, gptq, awq+gptq (2, 3, 4 or 8) and qat (4), not {method}", r.Stderr);
    }

    [Fact]
    public void Qat_takes_4_bits_only()
    {
        Assert.Contains("qat trains 4-bit weights", Assert.Throws<ArgumentException>(() => new AwqConfig { Method = QuantMethod.Qat, WBit = 3 }.Validate()).Message);
        var r = AwqCli.Run("quantize", "nowhere", "--method", "qat", "--w-bit", "3", "--out", "x");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--w-bit 3: qat trains 4-bit weights", r.Stderr);
    }

    [Fact]
    public void AutoAwq_format_is_refused_for_widths_other_than_4()
    {
        var r = AwqCli.Run("quantize", "nowhere", "--w-bit", "3", "--format", "awq", "--out", "x");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--format awq holds 4-bit weights only", r.Stderr);
    }
}
