using AwqRuntime.Model;

namespace AwqRuntime.Synthetic;

/// <summary>
/// Deterministic random LLaMA weights with a trained model's statistics, generated tensor by tensor
/// on demand (nothing is held), so that writers can stream even a 1.1B-parameter model:
/// linears and embeddings N(0, 0.02²); biases N(0, 0.1²); RMSNorm weights 1 + N(0, 0.02²); and in the two norms of
/// every even-numbered block a few fixed "outlier" channels scaled to 8–20, the persistent
/// large-magnitude activation channels of real LLMs (LLM.int8(), AWQ §3.2) that AWQ's scale search
/// is meant to find. Each tensor's values depend only on (seed, tensor name), never on read order
/// or thread count: chunks of 64K values each draw from their own SplitMix64 / xoshiro256** stream.
/// </summary>
public sealed class SyntheticWeightSource : WeightSourceBase
{
    public const float WeightStd = 0.02f;
    public const float NormStd = 0.02f;

    /// <summary>Biases (Qwen2's q/k/v) are N(0, 0.1²): large next to the weights, as trained ones are.</summary>
    public const float BiasStd = 0.1f;
    private const int ChunkElements = 1 << 16;

    private readonly ulong _seed;

    public SyntheticWeightSource(LlamaConfig config, ulong seed = 0) : base($"synthetic:{config.Name}")
    {
        Config = config.Validate(Path);
        _seed = seed;
        var rng = new Xoshiro(Mix(seed, "outlier-channels"));
        var count = Math.Max(2, config.HiddenSize / 256);
        var channels = new SortedSet<int>();
        while (channels.Count < Math.Min(count, config.HiddenSize)) channels.Add((int)(rng.NextUInt64() % (ulong)config.HiddenSize));
        OutlierChannels = channels.ToArray();
        OutlierScales = OutlierChannels.Select(_ => 8f + 12f * (float)rng.NextDouble()).ToArray();
        foreach (var (name, shape) in LlamaWeightShapes.Expected(config))
            Register(new WeightInfo(name, Formats.TensorDType.F32, shape));
    }

    /// <summary>Hidden channels whose norm weights are outliers (in even-numbered blocks).</summary>
    public IReadOnlyList<int> OutlierChannels { get; }

    /// <summary>The norm weight of each outlier channel (8..20).</summary>
    public IReadOnlyList<float> OutlierScales { get; }

    /// <summary>True for the norms that carry the outlier channels.</summary>
    public static bool HasOutliers(string name, out int layer)
    {
        layer = -1;
        if (!name.StartsWith("model.layers.", StringComparison.Ordinal)) return false;
        if (!name.EndsWith(".input_layernorm.weight", StringComparison.Ordinal) && !name.EndsWith(".post_attention_layernorm.weight", StringComparison.Ordinal)) return false;
        var rest = name["model.layers.".Length..];
        return int.TryParse(rest[..rest.IndexOf('.')], out layer) && layer % 2 == 0;
    }

    protected override float[] ReadCore(WeightInfo info)
    {
        // A tied output shares the embedding's values.
        var name = info.Name == LlamaTensorNames.Output && Config.TieWordEmbeddings ? LlamaTensorNames.Embedding : info.Name;
        var isBias = name.EndsWith(".bias", StringComparison.Ordinal);
        var isNorm = info.Shape.Length == 1 && !isBias;
        var data = new float[info.ElementCount];
        var tensorSeed = Mix(_seed, name);
        var chunks = (int)((data.LongLength + ChunkElements - 1) / ChunkElements);
        Parallel.For(0, chunks, ci =>
        {
            var rng = new Xoshiro(tensorSeed ^ (0x9E3779B97F4A7C15UL * (ulong)(ci + 1)));
            var span = data.AsSpan(ci * ChunkElements, (int)Math.Min(ChunkElements, data.LongLength - (long)ci * ChunkElements));
            for (var i = 0; i < span.Length; i += 2)
            {
                var (a, b) = rng.NextGaussianPair();
                span[i] = a;
                if (i + 1 < span.Length) span[i + 1] = b;
            }
            if (isNorm) foreach (ref var v in span) v = 1f + NormStd * v;
            else if (isBias) foreach (ref var v in span) v *= BiasStd;
            else foreach (ref var v in span) v *= WeightStd;
        });
        if (isNorm && HasOutliers(name, out _))
            for (var k = 0; k < OutlierChannels.Count; k++) data[OutlierChannels[k]] = OutlierScales[k];
        return data;
    }

    /// <summary>FNV-1a of the name folded into the seed: a stable per-tensor stream id.</summary>
    private static ulong Mix(ulong seed, string name)
    {
        var h = 14695981039346656037UL;
        foreach (var ch in name)
        {
            h ^= ch;
            h *= 1099511628211UL;
        }
        return h ^ (seed * 0xD1B54A32D192ED03UL);
    }

    /// <summary>xoshiro256** seeded through SplitMix64 (Blackman &amp; Vigna); Box–Muller normals.</summary>
    private struct Xoshiro
    {
        private ulong _s0, _s1, _s2, _s3;

        public Xoshiro(ulong seed)
        {
            ulong Next()
            {
                seed += 0x9E3779B97F4A7C15UL;
                var z = seed;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                return z ^ (z >> 31);
            }
            _s0 = Next(); _s1 = Next(); _s2 = Next(); _s3 = Next();
        }

        public ulong NextUInt64()
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }

        /// <summary>Uniform in [0, 1) with 53 bits.</summary>
        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

        public (float, float) NextGaussianPair()
        {
            var u1 = 1.0 - NextDouble(); // (0, 1]: log stays finite
            var u2 = NextDouble();
            var r = Math.Sqrt(-2.0 * Math.Log(u1));
            var (sin, cos) = Math.SinCos(2.0 * Math.PI * u2);
            return ((float)(r * cos), (float)(r * sin));
        }
    }
}
