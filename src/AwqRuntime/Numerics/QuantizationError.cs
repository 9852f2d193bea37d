namespace AwqRuntime.Numerics;

/// <summary>
/// Mean squared error and maximum absolute error between two equally long arrays, accumulated in
/// double in index order — the same doubles native <c>awq_quant_error</c> returns. NaN in either
/// input makes both statistics NaN.
/// </summary>
public readonly record struct QuantizationError(double Mse, double MaxAbs)
{
    /// <summary>Root of <see cref="Mse"/>.</summary>
    public double Rmse => Math.Sqrt(Mse);

    public static QuantizationError Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"a has {a.Length} elements, b has {b.Length}", nameof(b));
        if (a.Length == 0) throw new ArgumentException("no elements to compare", nameof(a));
        double sum = 0, max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
            double ad = Math.Abs(d);
            if (ad > max || double.IsNaN(ad)) max = ad;
        }
        return new QuantizationError(sum / a.Length, max);
    }
}
