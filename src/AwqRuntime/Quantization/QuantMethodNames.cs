namespace AwqRuntime.Quantization;

/// <summary>The --method names of <see cref="QuantMethod"/> (what checkpoints and reports record).</summary>
public static class QuantMethodNames
{
    private static readonly (QuantMethod Method, string Name)[] Table =
    [
        (QuantMethod.Awq, "awq"),
        (QuantMethod.Rtn, "rtn"),
        (QuantMethod.Gptq, "gptq"),
        (QuantMethod.AwqGptq, "awq+gptq"),
        (QuantMethod.W8A8Dynamic, "w8a8-dynamic"),
        (QuantMethod.W8A8Static, "w8a8-static"),
        (QuantMethod.Qat, "qat"),
    ];

    /// <summary>Every valid name, in the order help text lists them.</summary>
    public static IReadOnlyList<string> All { get; } = Table.Select(t => t.Name).ToArray();

    public static string Name(this QuantMethod m) =>
        Table.First(t => t.Method == m).Name;

    /// <summary>The method named <paramref name="name"/> (case-insensitive), or an error listing the valid names.</summary>
    public static QuantMethod Parse(string? name)
    {
        foreach (var (m, n) in Table)
            if (string.Equals(n, name, StringComparison.OrdinalIgnoreCase)) return m;
        throw new ArgumentException($"--method '{name}' is not one of {string.Join(", ", All)}");
    }

    /// <summary>True for methods that read calibration activations (AWQ's search, GPTQ's Hessians).</summary>
    public static bool ReadsCalibration(this QuantMethod m) => m is QuantMethod.Awq or QuantMethod.Gptq or QuantMethod.AwqGptq or QuantMethod.W8A8Static or QuantMethod.Qat;

    /// <summary>True for methods whose linears become group-wise INT4 (AutoAWQ GEMM layout).</summary>
    public static bool IsInt4(this QuantMethod m) => m is QuantMethod.Awq or QuantMethod.Rtn or QuantMethod.Gptq or QuantMethod.AwqGptq or QuantMethod.Qat;
}
