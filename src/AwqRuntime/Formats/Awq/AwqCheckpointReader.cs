using AwqRuntime.Formats.HuggingFace;
using AwqRuntime.Model;

namespace AwqRuntime.Formats.Awq;

/// <summary>
/// Loads an AutoAWQ GEMM checkpoint (ours or anyone's) into a runnable model: every quantized linear
/// is validated (dtypes, shapes against config.json and the group size), unpacked from AWQ order,
/// its q/k output channels brought from HF's rotate_half order to the canonical interleaved order,
/// the family's biases (AutoAWQ keeps them beside qweight as fp16 "bias") read as fp32, and repacked into the W4A16 kernel's layout (<see cref="Int4Linear"/>). Nothing is dequantized.
/// </summary>
public static class AwqCheckpointReader
{
    public static (LlamaModel Model, AwqQuantizationConfig Quantization) Load(string folder, bool allowNonFinite = false)
    {
        using var src = HfWeightSource.Open(folder);
        src.AllowNonFinite = allowNonFinite;
        var q = src.Quantization ?? throw new InvalidDataException($"{folder}: config.json has no AWQ quantization_config");
        if (q.Version != "gemm") throw new InvalidDataException($"{folder}: AWQ version '{q.Version}' is not supported (gemm only)");
        if (!q.ZeroPoint) throw new InvalidDataException($"{folder}: AWQ without zero points is not supported");
        return (Assemble(src, (l, kind, n, k) => new Int4Linear(ReadQuantized(src, q, l, kind, n, k))), q);
    }

    /// <summary>
    /// The model of a quantized HF checkpoint: <paramref name="quantized"/> builds each linear the source
    /// marks quantized (layer, kind, out, in); the rest is read as stored (fp16 stays fp16).
    /// </summary>
    internal static LlamaModel Assemble(HfWeightSource src, Func<int, LinearKind, int, int, ILinear> quantized)
    {
        var c = src.Config;
        var blocks = new LlamaBlock[c.NumLayers];
        for (var l = 0; l < c.NumLayers; l++)
        {
            ILinear Lin(LinearKind kind)
            {
                var shape = kind.Shape(c);
                if (!src.IsQuantized(l, kind)) return Unquantized(src, LlamaTensorNames.Linear(l, kind), (int)shape[0], (int)shape[1]);
                return quantized(l, kind, (int)shape[0], (int)shape[1]);
            }
            blocks[l] = new LlamaBlock(
                LlamaModel.ReadVector(src, LlamaTensorNames.AttnNorm(l), c.HiddenSize),
                LlamaModel.ReadVector(src, LlamaTensorNames.FfnNorm(l), c.HiddenSize),
                Lin(LinearKind.QProj), Lin(LinearKind.KProj), Lin(LinearKind.VProj), Lin(LinearKind.OProj),
                Lin(LinearKind.GateProj), Lin(LinearKind.UpProj), Lin(LinearKind.DownProj), LlamaModel.ReadBiases(src, l));
        }
        // Kept in fp16, as stored: the same numbers the quantizer held in memory, at half the size.
        var embedding = new TokenEmbedding(src.ReadFloat16(LlamaTensorNames.Embedding), c.VocabSize, c.HiddenSize);
        ILinear output = c.TieWordEmbeddings
            ? new HalfLinear(embedding.Float16!, c.VocabSize, c.HiddenSize)
            : Unquantized(src, LlamaTensorNames.Output, c.VocabSize, c.HiddenSize);
        return new LlamaModel(c, embedding, blocks, LlamaModel.ReadVector(src, LlamaTensorNames.FinalNorm, c.HiddenSize), output) { ContextOrigin = src.ContextOrigin };
    }

    /// <summary>An unquantized linear: fp16 when stored as fp16 (the AWQ convention), else fp32.</summary>
    private static ILinear Unquantized(HfWeightSource src, string name, int outF, int inF)
    {
        return src.Info(name).DType == TensorDType.F16
            ? new HalfLinear(src.ReadFloat16(name), outF, inF)
            : LlamaModel.ReadLinear(src, name, outF, inF);
    }

    private static Quantization.QuantizedWeights ReadQuantized(HfWeightSource src, AwqQuantizationConfig q, int layer, LinearKind kind, int n, int k)
    {
        var module = LlamaTensorNames.LinearModule(layer, kind);
        var shapes = new AwqGemmTensors([], [], [], k, n, q.GroupSize);
        if (!AwqGemmTensors.IsStandard(k, n, q.GroupSize) && q.LayoutExtension != AwqQuantizationConfig.CeilGroupsExtension)
            throw new InvalidDataException(
                $"{src.Path}: {module} is {n}x{k}, which AutoAWQ's layout cannot hold at group size {q.GroupSize} (in % group and out % 8 must be 0) and the checkpoint declares no layout_extension");
        src.RequireStored($"{module}.qweight", shapes.QWeightShape, TensorDType.I32);
        src.RequireStored($"{module}.qzeros", shapes.QZerosShape, TensorDType.I32);
        src.RequireStored($"{module}.scales", shapes.ScalesShape, TensorDType.F16);
        var tensors = shapes with
        {
            QWeight = src.ReadStored<int>($"{module}.qweight"),
            QZeros = src.ReadStored<int>($"{module}.qzeros"),
            Scales = src.ReadStored<ushort>($"{module}.scales"),
        };
        var w = Quantization.Int4Layouts.FromAutoAwqGemm(tensors);
        foreach (var s in w.Scales)
            if (!float.IsFinite(Numerics.Fp16.ToSingle(s))) throw new InvalidDataException($"{src.Path}: {module}.scales holds a non-finite value");
        var heads = kind.RotaryHeads(src.Config);
        return heads > 0 ? w.PermuteRows(RopePermutation.InterleavedChannelOrder(heads, src.Config.EffectiveHeadDim)) : w;
    }
}
