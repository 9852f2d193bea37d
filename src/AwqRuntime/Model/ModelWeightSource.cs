using AwqRuntime.Formats;

namespace AwqRuntime.Model;

/// <summary>
/// An in-memory model seen as a checkpoint, so every exporter (GGUF, HF) accepts a model that was
/// transformed in memory — AWQ-scaled weights for llama.cpp, or an INT4 model exported at full
/// precision. INT4 linears are read as their dequantized values (q − z)·s, or as themselves through
/// <see cref="ReadInt4"/>; fp16 weights report F16 as their stored type; a tied classifier reads the embedding.
/// </summary>
public sealed class ModelWeightSource : WeightSourceBase
{
    private readonly LlamaModel _model;
    private readonly Dictionary<string, Func<float[]>> _readers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Int4Linear> _int4 = new(StringComparer.Ordinal);

    public ModelWeightSource(LlamaModel model, string path) : base(path)
    {
        _model = model;
        var c = model.Config;
        Config = c with { TieWordEmbeddings = model.TiedOutput };
        void Add(string name, long[] shape, Func<float[]> read, TensorDType type = TensorDType.F32)
        {
            Register(new WeightInfo(name, type, shape));
            _readers[name] = read;
        }
        void AddLinear(string name, ILinear lin)
        {
            Add(name, [lin.OutFeatures, lin.InFeatures], () => Values(lin), lin is HalfLinear ? TensorDType.F16 : TensorDType.F32);
            if (lin is Int4Linear q) _int4[name] = q;
        }
        Add(LlamaTensorNames.Embedding, [c.VocabSize, c.HiddenSize], () => model.Embedding.ToFloat32(),
            model.Embedding.Float16 != null ? TensorDType.F16 : TensorDType.F32);
        for (var l = 0; l < c.NumLayers; l++)
        {
            var b = model.Blocks[l];
            Add(LlamaTensorNames.AttnNorm(l), [c.HiddenSize], () => b.AttnNorm);
            foreach (var kind in LinearKinds.All)
            {
                AddLinear(LlamaTensorNames.Linear(l, kind), b[kind]);
                if (b.Bias(kind) is { } bias) Add(LlamaTensorNames.Bias(l, kind), [bias.Length], () => bias);
            }
            Add(LlamaTensorNames.FfnNorm(l), [c.HiddenSize], () => b.FfnNorm);
        }
        Add(LlamaTensorNames.FinalNorm, [c.HiddenSize], () => model.FinalNorm);
        AddLinear(LlamaTensorNames.Output, model.Output);
    }

    private static float[] Values(ILinear l) => l switch
    {
        FloatLinear f => f.Weight,
        HalfLinear h => h.ToFloat32(),
        IGroupQuantizedLinear q => q.ToWeights().Dequantize(),
        _ => throw new NotSupportedException($"cannot read weights of a {l.GetType().Name}"),
    };

    /// <summary>An INT4 linear's own weights (q, scales, zeros), for exporters that store them as they are (GGUF Q4_1).</summary>
    public override Quantization.QuantizedWeights? ReadInt4(string name)
    {
        Info(name); // an unknown name is an error, not "not INT4"
        return _int4.TryGetValue(name, out var q) ? q.ToWeights() : null;
    }

    // Copies, so an exporter that transforms what it reads cannot change the model.
    protected override float[] ReadCore(WeightInfo info) => (float[])_readers[info.Name]().Clone();
}
