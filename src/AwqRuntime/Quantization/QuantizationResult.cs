using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>A quantized model in memory, with everything a report or a checkpoint needs.</summary>
public sealed class QuantizationResult
{
    public required LlamaModel Model { get; init; }
    public required AwqConfig Config { get; init; }
    public required CalibrationSet Calibration { get; init; }
    public required IReadOnlyList<BlockReport> Blocks { get; init; }

    /// <summary>Per module path ("model.layers.0.self_attn.q_proj"): statistics of its input activations.</summary>
    public required IReadOnlyDictionary<string, ChannelStats> ActivationStats { get; init; }

    public required TimeSpan Elapsed { get; init; }

    /// <summary>
    /// Time of the calibration forward: every block run once in fp32 over all calibration tokens (with
    /// its activations captured), which is one forward of the model over them without the embedding
    /// lookup and the classifier; zero when no calibration ran (RTN). <see cref="Elapsed"/> divided by
    /// this is what the whole quantization costs in forwards.
    /// </summary>
    public TimeSpan CalibrationForward { get; init; }

    /// <summary>The training of a QAT run (losses, time), or null for other methods.</summary>
    public Qat.QatReport? Qat { get; init; }

    /// <summary>Bits per weight over the quantized linears, counted from their packed bytes.</summary>
    public double LinearBitsPerWeight
    {
        get
        {
            long bits = 0, weights = 0;
            foreach (var b in Model.Blocks)
                foreach (var kind in LinearKinds.All)
                {
                    var l = b[kind];
                    weights += (long)l.InFeatures * l.OutFeatures;
                    bits += l switch
                    {
                        NBitLinear n => n.StoredBits,
                        IGroupQuantizedLinear q => q.ToWeights().PackedBytes * 8,
                        Int8Linear i8 => i8.WeightBytes * 8,
                        _ => (long)l.InFeatures * l.OutFeatures * 16,
                    };
                }
            return (double)bits / weights;
        }
    }
}
