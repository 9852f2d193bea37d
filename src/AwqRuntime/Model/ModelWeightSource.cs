using AwqRuntime.Formats;

namespace AwqRuntime.Model;

/// <summary>
/// An in-memory model seen as a checkpoint, so every exporter (GGUF, HF) accepts a model that was
/// transformed in memory — AWQ-scaled weights for llama.cpp, or an INT4 model exported at full
/// precision. INT4 linears are read as their dequantized values (q − z)·s; a tied classifier reads
/// the embedding.
/// </summary>
public sealed class ModelWeightSource : WeightSourceBase
{
    private readonly LlamaModel _model;
    private readonly Dictionary<string, Func<float[]>> _readers = new(StringComparer.Ordinal);

    public ModelWeightSource(LlamaModel model, string path) : base(path)
    {
        _model = model;
        var c = model.Config;
        Config = c with { TieWordEmbeddings = model.TiedOutput };
        void Add(string name, long[] shape, Func<float[]> read)
        {
            Register(new WeightInfo(name, TensorDType.F32, shape));
            _readers[name] = read;
        }
        Add(LlamaTensorNames.Embedding, [c.VocabSize, c.HiddenSize], () => model.Embedding.ToFloat32());
        for (var l = 0; l < c.NumLayers; l++)
        {
            var b = model.Blocks[l];
            Add(LlamaTensorNames.AttnNorm(l), [c.HiddenSize], () => b.AttnNorm);
            foreach (var kind in LinearKinds.All)
            {
                var lin = b[kind];
                Add(LlamaTensorNames.Linear(l, kind), [lin.OutFeatures, lin.InFeatures], () => Values(lin));
                if (b.Bias(kind) is { } bias) Add(LlamaTensorNames.Bias(l, kind), [bias.Length], () => bias);
            }
            Add(LlamaTensorNames.FfnNorm(l), [c.HiddenSize], () => b.FfnNorm);
        }
        Add(LlamaTensorNames.FinalNorm, [c.HiddenSize], () => model.FinalNorm);
        Add(LlamaTensorNames.Output, [c.VocabSize, c.HiddenSize], () => Values(model.Output));
    }

    private static float[] Values(ILinear l) => l switch
    {
        FloatLinear f => f.Weight,
        HalfLinear h => h.ToFloat32(),
        Int4Linear q => q.ToWeights().Dequantize(),
        _ => throw new NotSupportedException($"cannot read weights of a {l.GetType().Name}"),
    };

    // Copies, so an exporter that transforms what it reads cannot change the model.
    protected override float[] ReadCore(WeightInfo info) => (float[])_readers[info.Name]().Clone();
}
