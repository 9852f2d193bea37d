using AwqRuntime.Formats;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Generation;
using AwqRuntime.LlamaSharp;
using AwqRuntime.Model;
using AwqRuntime.Synthetic;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.LlamaSharp;

/// <summary>
/// llama.cpp's quantized GGUF files in our runtime: our block decoder gives llama.cpp's own
/// dequantization (ggml's dequantize_row_*, called in-process) bit for bit on random blocks; Q4_0 maps
/// onto INT4 g32 exactly; and files llama.cpp quantized load and compute what llama.cpp computes on them.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public sealed class QuantizedGgufInTests : IDisposable
{
    private readonly TempDir _dir = new("ggufin");

    public void Dispose() => _dir.Dispose();

    /// <summary>Random blocks of <paramref name="type"/>: random bytes, with every fp16 field a finite value of either sign in [2⁻¹⁰, 1).</summary>
    private static byte[] RandomBlocks(TensorDType type, int blocks, int seed)
    {
        TensorDTypeInfo.TryGetBlock(type, out _, out var bb);
        var rng = new Random(seed);
        var data = new byte[blocks * bb];
        rng.NextBytes(data);
        int[] halves = type switch
        {
            TensorDType.Q4_0 or TensorDType.Q5_0 or TensorDType.Q8_0 => [0],
            TensorDType.Q4_1 or TensorDType.Q5_1 or TensorDType.Q4_K or TensorDType.Q5_K => [0, 2],
            TensorDType.Q6_K => [208],
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        for (var b = 0; b < blocks; b++)
            foreach (var o in halves)
            {
                var v = (Half)((rng.Next(2) == 0 ? 1 : -1) * Math.Pow(2, -10 * rng.NextDouble()));
                BitConverter.TryWriteBytes(data.AsSpan(b * bb + o, 2), BitConverter.HalfToUInt16Bits(v));
            }
        return data;
    }

    [Theory]
    [InlineData(TensorDType.Q4_0)]
    [InlineData(TensorDType.Q4_1)]
    [InlineData(TensorDType.Q5_0)]
    [InlineData(TensorDType.Q5_1)]
    [InlineData(TensorDType.Q8_0)]
    [InlineData(TensorDType.Q4_K)]
    [InlineData(TensorDType.Q5_K)]
    [InlineData(TensorDType.Q6_K)]
    public void Block_decoder_gives_llama_cpps_own_values(TensorDType type)
    {
        TensorDTypeInfo.TryGetBlock(type, out var be, out _);
        const int blocks = 97;
        var data = RandomBlocks(type, blocks, seed: (int)type);
        var ours = new float[blocks * be];
        var theirs = new float[blocks * be];
        TensorConversion.ToFloat32(type, data, ours);
        GgmlDequantize.ToFloat(type.ToString(), data, theirs);
        var differ = 0;
        for (var i = 0; i < ours.Length; i++)
            if (BitConverter.SingleToInt32Bits(ours[i]) != BitConverter.SingleToInt32Bits(theirs[i]))
            {
                // ggml may fuse d·q − m into one FMA (compiler contraction): one rounding apart at most
                Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-6f * Math.Max(1f, Math.Abs(theirs[i])), $"{type}[{i}]: ours {ours[i]:R}, llama.cpp {theirs[i]:R}");
                differ++;
            }
        Assert.True(differ <= ours.Length / 100, $"{type}: {differ} of {ours.Length} values differ in the last bit");
    }

    [Fact]
    public void Q4_0_maps_onto_int4_g32_exactly()
    {
        const int rows = 6, cols = 96;
        var data = RandomBlocks(TensorDType.Q4_0, rows * cols / 32, seed: 3);
        var q = GgufInt4Blocks.TryMap(TensorDType.Q4_0, data, rows, cols)!;
        Assert.Equal(32, q.GroupSize);
        Assert.All(q.Zeros, z => Assert.Equal(8, z));
        var theirs = new float[rows * cols];
        GgmlDequantize.ToFloat("Q4_0", data, theirs);
        Assert.Equal(theirs, q.Dequantize());
    }

    [Fact]
    public void Q4_1_maps_only_when_every_min_is_an_integer_zero_point()
    {
        const int rows = 2, cols = 64;
        var data = RandomBlocks(TensorDType.Q4_1, rows * cols / 32, seed: 4);
        Assert.Null(GgufInt4Blocks.TryMap(TensorDType.Q4_1, data, rows, cols)); // random m: not AWQ's form
        var zeros = new byte[] { 0, 7, 15, 3 };
        for (var b = 0; b < 4; b++)
        {
            var d = (float)BitConverter.UInt16BitsToHalf(BitConverter.ToUInt16(data, b * 20));
            BitConverter.TryWriteBytes(data.AsSpan(b * 20 + 2, 2), BitConverter.HalfToUInt16Bits((Half)(-(d * zeros[b]))));
        }
        var q = GgufInt4Blocks.TryMap(TensorDType.Q4_1, data, rows, cols)!;
        Assert.Equal(zeros, q.Zeros);
        var theirs = new float[rows * cols];
        GgmlDequantize.ToFloat("Q4_1", data, theirs);
        var mine = q.Dequantize();
        for (var i = 0; i < mine.Length; i++)
        {
            var scale = Math.Abs(q.Scale(i / 32));
            Assert.True(Math.Abs(mine[i] - theirs[i]) <= scale * 15 / 2048f, $"[{i}]: {mine[i]} vs llama.cpp {theirs[i]}"); // m's fp16 rounding
        }
    }

    private string WriteF32Gguf()
    {
        var config = SyntheticModel.PresetConfig("tiny", vocabSize: 512, numLayers: 2) with
        {
            HiddenSize = 256, IntermediateSize = 768, NumHeads = 4, NumKvHeads = 2, Name = "synthetic-256",
        };
        var path = _dir.File("f32.gguf");
        using var src = new SyntheticWeightSource(config, seed: 11);
        GgufModelExporter.Export(src, path, GgufExportType.F32, GgufTokenizerWriter.ToMetadata(TokenizerFiles.Read(SharedData.Tok512)));
        return path;
    }

    /// <summary>
    /// The loader end to end: a file llama.cpp quantized, in our runtime (Q4_0 on the INT4 kernels, other
    /// block types decoded and held in fp16), computes what llama.cpp computes in F32 on the same decoded
    /// values (the decoder is llama.cpp's own, bit for bit, above). Against llama.cpp running the quantized
    /// file itself we differ by its 8-bit activations, which for 4-bit weights is far less than what the
    /// weights' quantization moved.
    /// </summary>
    [Theory]
    [InlineData("Q4_0", true)]
    [InlineData("Q4_K_M", true)]
    [InlineData("Q5_K_M", true)]
    [InlineData("Q6_K", false)]
    [InlineData("Q8_0", false)]
    public void A_file_llama_cpp_quantized_computes_what_llama_cpp_computes(string type, bool fourOrFiveBit)
    {
        var f32 = WriteF32Gguf();
        var path = _dir.File($"{type}.gguf");
        var made = GgufQuantizer.Quantize(f32, path, type, threads: 2);
        Assert.True(made.Success, made.Error);

        using var src = GgufWeightSource.Open(path);
        var ours = LlamaModel.FromWeights(src);
        var stored = src.Tensors.ToDictionary(t => t.Name, t => t.DType);
        foreach (var kind in LinearKinds.All)
        {
            var name = LlamaTensorNames.Linear(0, kind);
            var expected = stored[name] == TensorDType.Q4_0 ? typeof(Int4Linear) : typeof(HalfLinear);
            Assert.True(expected == ours.Blocks[0][kind].GetType(), $"{name} stored {stored[name]} runs as {ours.Blocks[0][kind].GetType().Name}");
        }
        var decoded = _dir.File($"{type}-decoded-f32.gguf");
        GgufModelExporter.Export(src, decoded, GgufExportType.F32, GgufTokenizerWriter.ToMetadata(TokenizerFiles.Read(SharedData.Tok512)));

        int[] tokens = [1, .. Enumerable.Range(0, 63).Select(i => (i * 37 + 5) % 512)];
        float[] Llama(string file)
        {
            using var m = LlamaCppModel.Load(file, LlamaCppFixture.F32Options);
            return m.EvaluateLogits(tokens);
        }
        var onFile = Llama(path);
        var onDecoded = Llama(decoded);
        var reference = Llama(f32);
        var mine = new float[tokens.Length * 512];
        ours.Forward(tokens, ours.CreateCache(tokens.Length), ours.CreateBuffers(tokens.Length), mine, LogitsMode.All);

        static double Rms(float[] a, float[]? b = null) => Math.Sqrt(a.Select((v, i) => Math.Pow(v - (b?[i] ?? 0), 2)).Average());
        var vsDecoded = Rms(mine, onDecoded) / Rms(onDecoded);
        Assert.True(vsDecoded < 1e-3, $"{type}: ours vs llama.cpp F32 on the decoded weights: relative rms {vsDecoded:E2}");
        Assert.True(Rms(reference, onFile) > 0, "quantization changed nothing");
        if (fourOrFiveBit)
        {
            var ratio = Rms(mine, onFile) / Rms(reference, onFile);
            Assert.True(ratio < 0.5, $"{type}: ours differs from llama.cpp on the same file by {ratio:F3} of what quantization moved");
        }
    }
}
