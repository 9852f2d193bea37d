namespace AwqRuntime.Quantization.Gptq;

/// <summary>
/// Dense float64 Cholesky factorisation and what GPTQ needs from it (Frantar et al., "GPTQ",
/// arXiv 2210.17323, §4 step 3; IST-DASLab/gptq gptq.py fasterquant: torch.linalg.cholesky,
/// torch.cholesky_inverse, torch.linalg.cholesky(upper=True)). Matrices are n×n, row-major.
/// </summary>
public static class Cholesky
{
    /// <summary>Lower-triangular L with A = L·Lᵀ (the upper triangle of the result is 0); A must be symmetric positive definite.</summary>
    public static double[] Lower(ReadOnlySpan<double> a, int n, string what = "matrix")
    {
        if (a.Length != (long)n * n) throw new ArgumentException($"{what}: {a.Length} values for a {n}x{n} matrix");
        var l = new double[(long)n * n];
        for (var j = 0; j < n; j++)
        {
            var d = a[j * n + j];
            for (var p = 0; p < j; p++) d -= l[j * n + p] * l[j * n + p];
            if (!(d > 0) || !double.IsFinite(d))
                throw new ArgumentException($"{what} is not positive definite (pivot {j} is {d:G4}); more damping is needed");
            var ljj = Math.Sqrt(d);
            l[j * n + j] = ljj;
            for (var i = j + 1; i < n; i++)
            {
                var s = a[i * n + j];
                for (var p = 0; p < j; p++) s -= l[i * n + p] * l[j * n + p];
                l[i * n + j] = s / ljj;
            }
        }
        return l;
    }

    /// <summary>A⁻¹ from A's lower Cholesky factor L (torch.cholesky_inverse): (L·Lᵀ)⁻¹ = L⁻ᵀ·L⁻¹.</summary>
    public static double[] InverseFromLower(ReadOnlySpan<double> l, int n)
    {
        // M = L⁻¹ (lower), by forward substitution column by column of the identity.
        var m = new double[(long)n * n];
        for (var c = 0; c < n; c++)
        {
            m[c * n + c] = 1 / l[c * n + c];
            for (var i = c + 1; i < n; i++)
            {
                double s = 0;
                for (var p = c; p < i; p++) s -= l[i * n + p] * m[p * n + c];
                m[i * n + c] = s / l[i * n + i];
            }
        }
        // A⁻¹[i,j] = Σ_p M[p,i]·M[p,j], p ≥ max(i, j); symmetric.
        var inv = new double[(long)n * n];
        for (var i = 0; i < n; i++)
            for (var j = i; j < n; j++)
            {
                double s = 0;
                for (var p = j; p < n; p++) s += m[p * n + i] * m[p * n + j];
                inv[i * n + j] = s;
                inv[j * n + i] = s;
            }
        return inv;
    }

    /// <summary>Upper-triangular U with A = Uᵀ·U (torch.linalg.cholesky(A, upper=True)): the transpose of <see cref="Lower"/>.</summary>
    public static double[] Upper(ReadOnlySpan<double> a, int n, string what = "matrix")
    {
        var l = Lower(a, n, what);
        var u = new double[l.Length];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
                u[j * n + i] = l[i * n + j];
        return u;
    }
}
