namespace AwqRuntime.Quantization.Observers;

/// <summary>How static W8A8 picks an activation range from calibration inputs (--observer).</summary>
public enum ObserverKind
{
    /// <summary>The full range seen (PyTorch's MinMaxObserver).</summary>
    MinMax,

    /// <summary>The 0.01 % and 99.99 % quantiles (outliers clipped).</summary>
    Percentile,

    /// <summary>The shrunk range with the least squared quantization error (a grid search).</summary>
    Mse,
}

/// <summary>--observer names.</summary>
public static class ObserverNames
{
    public static IReadOnlyList<string> All { get; } = ["minmax", "percentile", "mse"];

    public static string Name(this ObserverKind k) => All[(int)k];

    public static ObserverKind Parse(string? name)
    {
        for (var i = 0; i < All.Count; i++)
            if (string.Equals(All[i], name, StringComparison.OrdinalIgnoreCase)) return (ObserverKind)i;
        throw new ArgumentException($"--observer '{name}' is not one of {string.Join(", ", All)}");
    }
}
