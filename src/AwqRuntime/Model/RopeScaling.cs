namespace AwqRuntime.Model;

/// <summary>
/// Llama 3.1's RoPE frequency scaling (Hugging Face rope_scaling {"rope_type": "llama3", factor,
/// low_freq_factor, high_freq_factor, original_max_position_embeddings}; transformers'
/// modeling_rope_utils._compute_llama3_parameters). Each rotary pair i with inverse frequency
/// f_i = θ^(−2i/d) and wavelength λ_i = 2π / f_i is slowed by a factor: 1 when λ_i is shorter than
/// original / high_freq_factor, <see cref="Factor"/> when longer than original / low_freq_factor, and
/// in between 1 / ((1 − s)/factor + s) with s = (original/λ_i − low) / (high − low). The kernel
/// divides each pair's angle by its factor, as ggml's rope_ext does with llama.cpp's rope_freqs tensor.
/// </summary>
public sealed record RopeScaling
{
    public const string Llama3 = "llama3";

    /// <summary>Factors given one per pair (a GGUF's rope_freqs tensor) rather than by Llama 3.1's formula.</summary>
    public const string PerPairFactors = "factors";

    /// <summary>The factors read from a GGUF's rope_freqs (<see cref="PerPairFactors"/>); null for the llama3 formula.</summary>
    public IReadOnlyList<float>? Factors { get; init; }

    /// <summary>Factors as llama.cpp stores them: one per rotary pair, no formula.</summary>
    public static RopeScaling FromFactors(float[] factors) => new() { Type = PerPairFactors, Factors = factors };

    public bool Equals(RopeScaling? other) =>
        other is not null && Type == other.Type && Factor == other.Factor && LowFreqFactor == other.LowFreqFactor
        && HighFreqFactor == other.HighFreqFactor && OriginalMaxPositionEmbeddings == other.OriginalMaxPositionEmbeddings
        && (Factors is null ? other.Factors is null : other.Factors is not null && Factors.SequenceEqual(other.Factors));

    public override int GetHashCode() => HashCode.Combine(Type, Factor, LowFreqFactor, HighFreqFactor, OriginalMaxPositionEmbeddings, Factors?.Count);

    public string Type { get; init; } = Llama3;
    public double Factor { get; init; } = 8.0;
    public double LowFreqFactor { get; init; } = 1.0;
    public double HighFreqFactor { get; init; } = 4.0;
    public int OriginalMaxPositionEmbeddings { get; init; } = 8192;

    /// <summary>Throws InvalidDataException naming <paramref name="source"/> and the bad field.</summary>
    public RopeScaling Validate(string source)
    {
        if (Type == PerPairFactors)
        {
            if (Factors is null || Factors.Count == 0 || Factors.Any(f => !(f > 0) || float.IsInfinity(f)))
                throw new InvalidDataException($"{source}: RoPE frequency factors must be finite and > 0");
            return this;
        }
        if (Type != Llama3) throw new InvalidDataException($"{source}: rope_scaling type '{Type}' is not supported (only \"llama3\")");
        if (!(Factor >= 1) || double.IsInfinity(Factor)) throw new InvalidDataException($"{source}: rope_scaling.factor must be ≥ 1 (got {Factor})");
        if (!(LowFreqFactor > 0) || !(HighFreqFactor > LowFreqFactor) || double.IsInfinity(HighFreqFactor))
            throw new InvalidDataException($"{source}: rope_scaling needs 0 < low_freq_factor < high_freq_factor (got {LowFreqFactor}, {HighFreqFactor})");
        if (OriginalMaxPositionEmbeddings <= 0)
            throw new InvalidDataException($"{source}: rope_scaling.original_max_position_embeddings must be positive (got {OriginalMaxPositionEmbeddings})");
        return this;
    }

    /// <summary>The factor of each of the <paramref name="ropeDim"/>/2 rotary pairs, computed in double and rounded once.</summary>
    public float[] FreqFactors(int ropeDim, double theta)
    {
        if (Factors is not null)
            return Factors.Count == ropeDim / 2
                ? Factors.ToArray()
                : throw new InvalidDataException($"{Factors.Count} RoPE frequency factors for a rotary dimension of {ropeDim} (needs {ropeDim / 2})");
        var factors = new float[ropeDim / 2];
        var lowWavelen = OriginalMaxPositionEmbeddings / LowFreqFactor;
        var highWavelen = OriginalMaxPositionEmbeddings / HighFreqFactor;
        for (var i = 0; i < factors.Length; i++)
        {
            var freq = Math.Pow(theta, -2.0 * i / ropeDim);
            var wavelen = 2 * Math.PI / freq;
            double f;
            if (wavelen < highWavelen) f = 1;
            else if (wavelen > lowWavelen) f = Factor;
            else
            {
                var smooth = (OriginalMaxPositionEmbeddings / wavelen - LowFreqFactor) / (HighFreqFactor - LowFreqFactor);
                f = 1 / ((1 - smooth) / Factor + smooth);
            }
            factors[i] = (float)f;
        }
        return factors;
    }
}
