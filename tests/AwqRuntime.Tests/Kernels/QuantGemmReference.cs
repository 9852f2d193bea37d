// Not "AwqRuntime.Tests.Kernels": a namespace of that name would shadow AwqRuntime.Native.Kernels.
namespace AwqRuntime.Tests.QuantGemm;

/// <summary>
/// Random quantized operands and float64 / int64 references for the quantized GEMMs, written from
/// the header's definitions only (nothing shared with the native code): W4A16 dequantizes every
/// weight to double and multiplies; INT8 sums the zero-point-corrected products in 64 bits.
/// </summary>
internal static class QuantGemmReference
{
    /// <summary>A W4A16 problem in the kernel layout, plus its float64 product.</summary>
    internal sealed class W4Problem
    {
        public required int M, K, N, GroupSize;
        public required float[] X;
        public required byte[] QWeight;
        public required Half[] Scales;
        public required byte[] Zeros;

        public int Groups => (K + GroupSize - 1) / GroupSize;

        public int Q(int n, int k) => (QWeight[n * ((K + 1) / 2) + k / 2] >> (4 * (k % 2))) & 15;

        /// <summary>(q − z)·s in double.</summary>
        public double W(int n, int k)
        {
            int g = n * Groups + k / GroupSize;
            return (Q(n, k) - Zeros[g]) * (double)Scales[g];
        }

        /// <summary>y = x·Wᵀ in float64, and per output Σ_k |x|·s·(q + z): the size of the terms the
        /// kernel's zero-point form y = Σ_g s·(Σ x·q − z·Σ x) adds in fp32.</summary>
        public (double[] Y, double[] Scale) Reference()
        {
            var y = new double[M * N];
            var scale = new double[M * N];
            var w = new double[K];
            var mag = new double[K];
            for (int n = 0; n < N; n++)
            {
                for (int k = 0; k < K; k++)
                {
                    int g = n * Groups + k / GroupSize;
                    w[k] = W(n, k);
                    mag[k] = (Q(n, k) + Zeros[g]) * (double)Scales[g];
                }
                for (int m = 0; m < M; m++)
                {
                    double acc = 0, size = 0;
                    for (int k = 0; k < K; k++)
                    {
                        double xv = X[m * K + k];
                        acc += xv * w[k];
                        size += Math.Abs(xv) * mag[k];
                    }
                    y[m * N + n] = acc;
                    scale[m * N + n] = size;
                }
            }
            return (y, scale);
        }
    }

    /// <summary>Uniform random codes, zeros 0..15, scales in [0.001, 0.05], x in [−1, 1) + offset.
    /// For odd K the unused high nibble of each row's last byte is random too: the kernel must ignore it.</summary>
    internal static W4Problem RandomW4(Random rng, int m, int k, int n, int groupSize, float xOffset = 0)
    {
        int groups = (k + groupSize - 1) / groupSize;
        var p = new W4Problem
        {
            M = m, K = k, N = n, GroupSize = groupSize,
            X = new float[m * k],
            QWeight = new byte[n * ((k + 1) / 2)],
            Scales = new Half[n * groups],
            Zeros = new byte[n * groups],
        };
        for (int i = 0; i < p.X.Length; i++) p.X[i] = (float)(rng.NextDouble() * 2 - 1) + xOffset;
        rng.NextBytes(p.QWeight);
        for (int i = 0; i < p.Scales.Length; i++)
        {
            p.Scales[i] = (Half)(0.001 + 0.049 * rng.NextDouble());
            p.Zeros[i] = (byte)rng.Next(16);
        }
        return p;
    }

    /// <summary>acc[m,n] = Σ_k (xq − xZero[m])·(wq − wZero[n]) in 64-bit integers (wZero null = 0).</summary>
    internal static long[] Int8(byte[] xq, int[] xZero, int m, int k, sbyte[] wq, int[]? wZero, int n)
    {
        var acc = new long[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long s = 0;
                long zx = xZero[i], zw = wZero?[j] ?? 0;
                for (int t = 0; t < k; t++) s += (xq[i * k + t] - zx) * (wq[j * k + t] - zw);
                acc[i * n + j] = s;
            }
        return acc;
    }
}
