namespace AwqRuntime.Model;

/// <summary>
/// One decoder block's parameters: two RMSNorm weights, seven linears and, where the family has
/// them (<see cref="Families.ModelFamily.HasBias"/>), the linears' fp32 biases. The linears are
/// swappable (<see cref="SetLinear"/>) so quantization can replace them one at a time.
/// </summary>
public sealed class LlamaBlock
{
    private readonly ILinear[] _linears;
    private readonly float[]?[] _biases;

    public LlamaBlock(float[] attnNorm, float[] ffnNorm, ILinear q, ILinear k, ILinear v, ILinear o,
        ILinear gate, ILinear up, ILinear down, IReadOnlyDictionary<LinearKind, float[]>? biases = null)
    {
        AttnNorm = attnNorm;
        FfnNorm = ffnNorm;
        _linears = [q, k, v, o, gate, up, down];
        _biases = new float[]?[_linears.Length];
        foreach (var (kind, b) in biases ?? new Dictionary<LinearKind, float[]>())
        {
            if (b.Length != this[kind].OutFeatures)
                throw new ArgumentException($"{kind.Name()} bias has {b.Length} values, the linear has {this[kind].OutFeatures} outputs");
            _biases[(int)kind] = b;
        }
    }

    /// <summary>input_layernorm weight. Mutable: AWQ folds 1/s of group 1 into it.</summary>
    public float[] AttnNorm { get; }

    /// <summary>post_attention_layernorm weight. Mutable: AWQ folds 1/s of group 3 into it.</summary>
    public float[] FfnNorm { get; }

    public ILinear Q => _linears[0];
    public ILinear K => _linears[1];
    public ILinear V => _linears[2];
    public ILinear O => _linears[3];
    public ILinear Gate => _linears[4];
    public ILinear Up => _linears[5];
    public ILinear Down => _linears[6];

    public ILinear this[LinearKind kind] => _linears[(int)kind];

    /// <summary>The linear's bias [out] (mutable: folding a scale into its rows divides it too), or null.</summary>
    public float[]? Bias(LinearKind kind) => _biases[(int)kind];

    public float[] Norm(Families.BlockNorm norm) => norm == Families.BlockNorm.Attention ? AttnNorm : FfnNorm;

    public void SetLinear(LinearKind kind, ILinear linear)
    {
        var old = this[kind];
        if (old.InFeatures != linear.InFeatures || old.OutFeatures != linear.OutFeatures)
            throw new ArgumentException($"{kind.Name()}: replacement is {linear.OutFeatures}x{linear.InFeatures}, expected {old.OutFeatures}x{old.InFeatures}");
        _linears[(int)kind] = linear;
    }

    /// <summary>
    /// A block with each linear replaced by <paramref name="map"/>(linear) — the same shapes — and the
    /// same norms and biases (shared, not copied).
    /// </summary>
    public LlamaBlock MapLinears(Func<ILinear, ILinear> map)
    {
        var biases = new Dictionary<LinearKind, float[]>();
        foreach (var kind in LinearKinds.All)
            if (Bias(kind) is { } b) biases[kind] = b;
        var l = _linears.Select(map).ToArray();
        return new LlamaBlock(AttnNorm, FfnNorm, l[0], l[1], l[2], l[3], l[4], l[5], l[6], biases);
    }

    public long WeightBytes =>
        _linears.Sum(l => l.WeightBytes) + (AttnNorm.Length + FfnNorm.Length + _biases.Sum(b => b?.Length ?? 0)) * (long)sizeof(float);
}
