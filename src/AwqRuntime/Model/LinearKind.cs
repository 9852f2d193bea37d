namespace AwqRuntime.Model;

/// <summary>
/// The seven linear projections of a LLaMA-family decoder block, in AutoAWQ's order. Their names
/// (<see cref="LinearKinds.Name"/>) are Hugging Face's module names ("q_proj" … "down_proj").
/// </summary>
public enum LinearKind
{
    QProj,
    KProj,
    VProj,
    OProj,
    GateProj,
    UpProj,
    DownProj,
}

/// <summary>Names, shapes and parsing of <see cref="LinearKind"/>.</summary>
public static class LinearKinds
{
    /// <summary>Every kind, in AutoAWQ's (and the checkpoints') order.</summary>
    public static IReadOnlyList<LinearKind> All { get; } =
        [LinearKind.QProj, LinearKind.KProj, LinearKind.VProj, LinearKind.OProj, LinearKind.GateProj, LinearKind.UpProj, LinearKind.DownProj];

    private static readonly string[] Names = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    /// <summary>The Hugging Face module name: "q_proj", …, "down_proj".</summary>
    public static string Name(this LinearKind kind) => Names[(int)kind];

    /// <summary>The parent module: "self_attn" for q/k/v/o, "mlp" for gate/up/down.</summary>
    public static string Parent(this LinearKind kind) => kind <= LinearKind.OProj ? "self_attn" : "mlp";

    /// <summary>True for q_proj and k_proj, whose output rows RoPE rotates (their row layout differs between formats).</summary>
    public static bool IsRotary(this LinearKind kind) => kind is LinearKind.QProj or LinearKind.KProj;

    /// <summary>[out, in] of the kind under <paramref name="c"/>.</summary>
    public static long[] Shape(this LinearKind kind, LlamaConfig c) => kind switch
    {
        LinearKind.QProj => [c.QDim, c.HiddenSize],
        LinearKind.KProj or LinearKind.VProj => [c.KvDim, c.HiddenSize],
        LinearKind.OProj => [c.HiddenSize, c.QDim],
        LinearKind.GateProj or LinearKind.UpProj => [c.IntermediateSize, c.HiddenSize],
        LinearKind.DownProj => [c.HiddenSize, c.IntermediateSize],
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Heads whose rows the kind's output holds when it is RoPE'd (q: heads, k: KV heads), else 0.</summary>
    public static int RotaryHeads(this LinearKind kind, LlamaConfig c) => kind switch
    {
        LinearKind.QProj => c.NumHeads,
        LinearKind.KProj => c.NumKvHeads,
        _ => 0,
    };

    public static bool TryParse(string name, out LinearKind kind)
    {
        var i = Array.IndexOf(Names, name);
        kind = (LinearKind)Math.Max(i, 0);
        return i >= 0;
    }

    /// <summary>The kind named <paramref name="name"/> ("down_proj"); an unknown name is an ArgumentException listing the known ones.</summary>
    public static LinearKind Parse(string name) =>
        TryParse(name, out var k) ? k : throw new ArgumentException($"'{name}' is not a linear kind (known: {string.Join(", ", Names)})", nameof(name));
}
