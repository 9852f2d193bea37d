using AwqRuntime.Quantization;
using AwqRuntime.Quantization.Observers;

namespace AwqRuntime.Comparison;

/// <summary>
/// One row to build. <see cref="GroupSize"/> applies to our INT4 rows and to the AWQ scale search of
/// AWQ-scaled rows; <see cref="GgufType"/> is a llama-quantize type name for llama.cpp rows.
/// <see cref="AutoOverrides"/> false leaves tensors that the type's blocks cannot split to llama.cpp,
/// which then refuses plain formats (kept for tests and for users who want llama.cpp's own behaviour).
/// <see cref="WBit"/> is the weight width of our AWQ and RTN rows: 4 (AutoAWQ's layout), or 2, 3, 8 (pack-quantized).
/// </summary>
public sealed record ComparisonRowSpec(string Name, ComparisonRowKind Kind, int GroupSize = 0, string? GgufType = null, bool AutoOverrides = true, int WBit = 4)
{
    public bool IsOurs => Kind is ComparisonRowKind.OursFp32 or ComparisonRowKind.OursAwq or ComparisonRowKind.OursRtn
        or ComparisonRowKind.OursAwqLlamaCppCompatible or ComparisonRowKind.OursMethod;

    /// <summary>For <see cref="ComparisonRowKind.OursMethod"/>: the method and, for static W8A8, the observer.</summary>
    public QuantMethod Method { get; init; } = QuantMethod.Awq;
    public ObserverKind Observer { get; init; } = ObserverKind.MinMax;

    /// <summary>Mixed precision for our group-wise rows: linear kinds at a width of their own (<see cref="AwqConfig.ModuleBits"/>).</summary>
    public IReadOnlyDictionary<string, int> ModuleBits { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// The "mix" recipe (rows "awq-mix:gN", "rtn-mix:gN", "qat-mix:gN"): the MLP's gate_proj and up_proj at 4 bits, every
    /// other linear at 8, in the spirit of llama.cpp's _M mixes, which give attention and ffn_down more bits.
    /// </summary>
    public static IReadOnlyDictionary<string, int> MixRecipe { get; } = new Dictionary<string, int>
    {
        ["q_proj"] = 8, ["k_proj"] = 8, ["v_proj"] = 8, ["o_proj"] = 8, ["down_proj"] = 8,
    };

    /// <summary>This row with <paramref name="bits"/> as its mixed widths, named for them ("QAT g32, q_proj k_proj v_proj o_proj down_proj 8-bit").</summary>
    public ComparisonRowSpec WithModuleBits(IReadOnlyDictionary<string, int> bits) => bits.Count == 0 ? this : this with
    {
        ModuleBits = bits,
        Name = Name + ", " + string.Join(", ", bits.GroupBy(b => b.Value).OrderBy(g => g.Key)
            .Select(g => string.Join(" ", AwqRuntime.Model.LinearKinds.All.Select(AwqRuntime.Model.LinearKinds.Name).Where(k => g.Any(b => b.Key == k))) + $" {g.Key}-bit")),
    };

    /// <summary>For an INT4 <see cref="ComparisonRowKind.OursMethod"/>: keep in fp16 the linears llama.cpp's 32-blocks cannot split, as llama.cpp must.</summary>
    public bool LlamaCppCompatible { get; init; }

    /// <summary>Keeps the linears llama.cpp cannot split in fp16 (AWQ's own kind, or the flag of another method's row).</summary>
    public bool KeepsUnsplittableInFp16 => Kind == ComparisonRowKind.OursAwqLlamaCppCompatible || LlamaCppCompatible;

    /// <summary>The method's label in row names: "AWQ", "QAT", ...</summary>
    public string MethodLabel => Kind == ComparisonRowKind.OursAwqLlamaCppCompatible ? "AWQ" : Method.Name().ToUpperInvariant();

    /// <summary><see cref="Ours"/> with the linears llama.cpp cannot split kept in fp16 ("qat-compat:g64"); named once the model's shapes are known.</summary>
    public static ComparisonRowSpec OursLlamaCppCompatible(QuantMethod method, int groupSize) => method == QuantMethod.Awq
        ? AwqLlamaCppCompatible(groupSize)
        : Ours(method, groupSize) with { Name = $"{method.Name().ToUpperInvariant()} g{groupSize} llama.cpp-compatible", LlamaCppCompatible = true };

    /// <summary>
    /// Ours by <paramref name="method"/> ("gptq:g32", "awq+gptq:g64", "qat:g32", "w8a8-dynamic",
    /// "w8a8-static:mse"): INT4 methods take a group size, W8A8 none (per channel).
    /// </summary>
    /// <paramref name="bits"/>: the weight width of the group-wise methods (4, or 2, 3, 8: "GPTQ w3 g32").
    public static ComparisonRowSpec Ours(QuantMethod method, int groupSize = 0, ObserverKind observer = ObserverKind.MinMax, int bits = 4) => method switch
    {
        QuantMethod.Awq => Awq(groupSize, bits),
        QuantMethod.Rtn => Rtn(groupSize, bits),
        QuantMethod.W8A8Dynamic => new("W8A8 dynamic", ComparisonRowKind.OursMethod) { Method = method },
        QuantMethod.W8A8Static => new($"W8A8 static ({observer.Name()})", ComparisonRowKind.OursMethod) { Method = method, Observer = observer },
        _ => new(Named(method.Name().ToUpperInvariant(), groupSize, bits), ComparisonRowKind.OursMethod, groupSize, WBit: bits) { Method = method },
    };

    public static ComparisonRowSpec OursFp32() => new("FP32 (ours)", ComparisonRowKind.OursFp32);

    /// <summary>"AWQ g32" at 4 bits, "AWQ w3 g32" at another width.</summary>
    public static ComparisonRowSpec Awq(int groupSize, int bits = 4) => new(Named("AWQ", groupSize, bits), ComparisonRowKind.OursAwq, groupSize, WBit: bits);

    public static ComparisonRowSpec Rtn(int groupSize, int bits = 4) => new(Named("RTN", groupSize, bits), ComparisonRowKind.OursRtn, groupSize, WBit: bits);

    private static string Named(string method, int groupSize, int bits) => bits == 4 ? $"{method} g{groupSize}" : $"{method} w{bits} g{groupSize}";

    /// <summary>The row's name becomes "AWQ g32, down_proj fp16" once the model's shapes say which kinds stay fp16.</summary>
    public static ComparisonRowSpec AwqLlamaCppCompatible(int groupSize) =>
        new($"AWQ g{groupSize} llama.cpp-compatible", ComparisonRowKind.OursAwqLlamaCppCompatible, groupSize);

    /// <summary>The AWQ g<paramref name="groupSize"/> checkpoint's own INT4 weights as GGUF Q4_1, run by llama.cpp.</summary>
    public static ComparisonRowSpec AwqAsQ4_1(int groupSize) =>
        new($"AWQ g{groupSize} → GGUF Q4_1 (llama.cpp)", ComparisonRowKind.AwqAsQ4_1LlamaCpp, groupSize, "Q4_1");

    public static ComparisonRowSpec LlamaCppF32() => new("F32 (llama.cpp)", ComparisonRowKind.LlamaCppF32, GgufType: "F32");

    public static ComparisonRowSpec LlamaCpp(string type, bool autoOverrides = true) =>
        new(autoOverrides ? type : $"{type} (no overrides)", ComparisonRowKind.LlamaCppQuantized, GgufType: type, AutoOverrides: autoOverrides);

    /// <summary>Scale search with groups of <paramref name="groupSize"/>: 32 matches the blocks of Q4_0/Q4_1 and the sub-blocks of Q4_K.</summary>
    /// <summary>llama.cpp's <paramref name="type"/> made with our calibration's importance matrix (mean x² per input column).</summary>
    public static ComparisonRowSpec LlamaCppImatrix(string type) => new($"{type} + imatrix", ComparisonRowKind.LlamaCppImatrix, GgufType: type);

    public static ComparisonRowSpec AwqScaled(string type, int groupSize = 32) =>
        new($"AWQ-scaled {type}", ComparisonRowKind.AwqScaledLlamaCpp, groupSize, type);

    /// <summary>The full comparison (what `awq compare` builds without --rows), in the order the report shows them.</summary>
    public static IReadOnlyList<ComparisonRowSpec> Defaults { get; } =
    [
        OursFp32(),
        LlamaCppF32(),
        Awq(32),
        Awq(64),
        AwqLlamaCppCompatible(32),
        AwqAsQ4_1(32),
        Rtn(32),
        Rtn(64),
        LlamaCpp("Q8_0"),
        LlamaCpp("Q5_K_M"),
        LlamaCpp("Q4_K_M"),
        LlamaCpp("Q4_1"),
        LlamaCpp("Q4_0"),
        LlamaCppImatrix("Q4_K_M"),
        LlamaCppImatrix("Q4_1"),
        LlamaCppImatrix("Q4_0"),
        AwqScaled("Q4_K_M"),
        AwqScaled("Q4_0"),
    ];
}
