namespace AwqRuntime.Quantization;

/// <summary>
/// How a model is quantized: INT4 group-wise by AWQ's activation-aware search, plain round-to-nearest,
/// GPTQ's error-feedback rounding, or AWQ's scales then GPTQ; or W8A8 INT8 with dynamic activations; or AWQ followed by quantization-aware training.
/// </summary>
public enum QuantMethod
{
    Awq,
    Rtn,
    Gptq,
    AwqGptq,
    W8A8Dynamic,
    W8A8Static,
    Qat,
}

/// <summary>
/// Settings of a quantization run, named and defaulted as AutoAWQ's quant_config / quantize()
/// (w_bit may also be 2, 3 or 8: the same asymmetric group scheme at another width, saved in
/// compressed-tensors' pack-quantized layout, which AutoAWQ's 4-bit GEMM layout cannot hold)
/// (AutoAWQ awq/models/base.py quantize and awq/quantize/quantizer.py): w_bit 4, q_group_size 128, zero_point on,
/// duo_scaling on, apply_clip on, a 20-point α grid, clip shrink down to 0.55, 512 clip tokens.
/// </summary>
public sealed record AwqConfig
{
    public QuantMethod Method { get; init; } = QuantMethod.Awq;
    public int WBit { get; init; } = 4;
    public int GroupSize { get; init; } = 128;
    public bool ZeroPoint { get; init; } = true;

    /// <summary>AutoAWQ's duo scaling s = x̄^α / w̄^(1−α); false gives llm-awq's s = x̄^α.</summary>
    public bool DuoScaling { get; init; } = true;

    public bool ApplyClip { get; init; } = true;
    public int NGrid { get; init; } = 20;
    public double MaxShrink { get; init; } = 0.5;
    public int ClipSampleTokens { get; init; } = 512;

    /// <summary>Linear kinds left in fp16 (AutoAWQ's modules_to_not_convert), e.g. "down_proj".</summary>
    public IReadOnlyList<string> ModulesToNotConvert { get; init; } = [];

    /// <summary>
    /// Mixed precision: linear kinds ("down_proj") quantized at another width than <see cref="WBit"/>, as
    /// llama.cpp's _M recipes give some tensors more bits (`--w-bit-for down_proj=8`). Saved in
    /// compressed-tensors' pack-quantized layout, one config group per width.
    /// </summary>
    public IReadOnlyDictionary<string, int> ModuleBits { get; init; } = new Dictionary<string, int>();

    /// <summary>The width of <paramref name="kind"/>'s weights: its <see cref="ModuleBits"/> entry, else <see cref="WBit"/>.</summary>
    public int BitsFor(Model.LinearKind kind) => ModuleBits.TryGetValue(Model.LinearKinds.Name(kind), out var b) ? b : WBit;

    /// <summary>Whether any kind has a width of its own.</summary>
    public bool Mixed => ModuleBits.Any(m => m.Value != WBit);

    /// <summary>Whether the weights need compressed-tensors' pack-quantized layout (AutoAWQ's holds one width, 4 bits).</summary>
    public bool NeedsPackQuantized => Method.IsInt4() && (WBit != 4 || Mixed);

    /// <summary>
    /// Whether the scale search may score a single-linear group through its inputs' Gram matrix
    /// (<see cref="InputGram"/>, the same loss) where that is cheaper; off only in tests that compare the two.
    /// </summary>
    internal bool GramLoss { get; init; } = true;

    /// <summary>
    /// Run the calibration forward even when the method reads no activations (RTN), to record each
    /// linear's input statistics (awq_search.safetensors). AWQ always records them.
    /// </summary>
    public bool CaptureStatistics { get; init; }

    /// <summary>Static W8A8: how each linear's activation range is chosen from calibration.</summary>
    public Observers.ObserverKind Observer { get; init; } = Observers.ObserverKind.MinMax;

    /// <summary>GPTQ: quantize columns in order of decreasing Hessian diagonal (desc_act / act-order).</summary>
    public bool ActOrder { get; init; }

    /// <summary>GPTQ: damping added to the Hessian's diagonal, as a fraction of its mean (percdamp, 0.01).</summary>
    public double PercDamp { get; init; } = 0.01;

    /// <summary>GPTQ: columns per lazy batch update (blocksize, 128).</summary>
    public int GptqBlockSize { get; init; } = 128;

    /// <summary>QAT: the training after AWQ (steps, batch, step sizes, seed).</summary>
    public Qat.QatOptions Qat { get; init; } = new();

    /// <summary>
    /// Where the calibration forward and the search's module evaluations run (null: the CPU);
    /// `awq quantize --device cuda`. A run-time choice, not part of the checkpoint's settings.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Backends.IComputeBackend? Backend { get; init; }

    public AwqConfig Validate()
    {
        if (GptqBlockSize <= 0) throw new ArgumentException($"GPTQ block size must be positive (got {GptqBlockSize})");
        if (PercDamp is <= 0 or > 1 || double.IsNaN(PercDamp)) throw new ArgumentException($"GPTQ damping must be in (0, 1] (got {PercDamp})");
        if (ActOrder && Method is not (QuantMethod.Gptq or QuantMethod.AwqGptq)) throw new ArgumentException($"act-order applies to gptq and awq+gptq, not {Method.Name()}");
        if (Observer != Observers.ObserverKind.MinMax && Method != QuantMethod.W8A8Static)
            throw new ArgumentException($"an activation observer applies to w8a8-static, not {Method.Name()}");
        if (Method == QuantMethod.Qat) Qat.Validate();
        if (!Method.IsInt4()) return ValidateModules();
        if (WBit is not (2 or 3 or 4 or 8)) throw new ArgumentException($"w_bit {WBit} is not supported: group-wise weights are 2, 3, 4 or 8 bits");
        if (Method == QuantMethod.Qat && WBit != 4) throw new ArgumentException($"w_bit {WBit}: qat trains 4-bit weights (2, 3 and 8 bits: awq, rtn, gptq, awq+gptq)");
        foreach (var (kind, bits) in ModuleBits)
        {
            if (!Model.LinearKinds.TryParse(kind, out _))
                throw new ArgumentException($"--w-bit-for: '{kind}' is not one of {string.Join(", ", Model.LinearKinds.All.Select(k => Model.LinearKinds.Name(k)))}");
            if (bits is not (2 or 3 or 4 or 8)) throw new ArgumentException($"--w-bit-for {kind}={bits}: group-wise weights are 2, 3, 4 or 8 bits");
            if (ModulesToNotConvert.Contains(kind)) throw new ArgumentException($"--w-bit-for {kind}: {kind} is also kept in fp16 (--modules-to-not-convert)");
        }
        if (GroupSize <= 0) throw new ArgumentException($"group size must be positive (got {GroupSize})");
        if (!ZeroPoint) throw new ArgumentException("zero_point=false (symmetric) is not supported: AutoAWQ's GEMM layout is asymmetric");
        if (NGrid < 1) throw new ArgumentException($"grid size must be positive (got {NGrid})");
        if (MaxShrink is < 0 or >= 1) throw new ArgumentException($"max shrink must be in [0, 1) (got {MaxShrink})");
        return ValidateModules();
    }

    private AwqConfig ValidateModules()
    {
        foreach (var m in ModulesToNotConvert)
            if (!Model.LinearKinds.TryParse(m, out _))
                throw new ArgumentException($"modules_to_not_convert: '{m}' is not one of {string.Join(", ", Model.LinearKinds.All.Select(k => Model.LinearKinds.Name(k)))}");
        return this;
    }

    /// <summary>Bits per weight of the packed format: w_bit + (fp16 scale + w_bit zero) / group.</summary>
    public double BitsPerWeight => WBit + (16.0 + WBit) / GroupSize;
}
