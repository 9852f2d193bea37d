namespace AwqRuntime.Quantization.Qat;

/// <summary>
/// Quantization-aware training settings (`awq quantize --method qat`). Step sizes are in units of a
/// group's quantization step: with the default η = 0.02 a latent weight moves about 1/50 of a step per
/// optimiser step, so it takes ~25 steps of consistent gradient to cross a rounding boundary.
/// </summary>
public sealed record QatOptions
{
    /// <summary>Optimiser steps (each over <see cref="BatchSize"/> calibration sequences).</summary>
    public int Steps { get; init; } = 300;

    /// <summary>Calibration sequences per step.</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Adam step size of the latent weights, in units of their group's initial scale.</summary>
    public float WeightLearningRate { get; init; } = 0.02f;

    /// <summary>Adam step size of the group scales, relative to their initial value (0: scales stay AWQ's).</summary>
    public float ScaleLearningRate { get; init; } = 0.002f;

    /// <summary>Adam step size of the RMSNorm weights, relative to their value (0: norms stay AWQ's).</summary>
    public float NormLearningRate { get; init; } = 0.002f;

    /// <summary>
    /// Validations on the held-out calibration sequences over the run (and one before the first step);
    /// the parameters with the lowest held-out KL are the ones kept.
    /// </summary>
    public int Validations { get; init; } = 10;

    /// <summary>
    /// Sequences sampled from the full-precision model itself (temperature 1, from BOS, as long as the
    /// calibration sequences) added to the training pool, never to the held-out ones: distillation
    /// data that cannot run out (LLM-QAT, Liu et al. 2023, trains on such data alone). With only the
    /// calibration text a long run fits that text and moves away from the model elsewhere.
    /// Null: <see cref="DefaultSelfSamplesPerCalibrationSequence"/> per calibration sequence; 0: none.
    /// </summary>
    public int? SelfSamples { get; init; }

    /// <summary>Self-generated sequences per calibration sequence when <see cref="SelfSamples"/> is not given.</summary>
    public const int DefaultSelfSamplesPerCalibrationSequence = 4;

    /// <summary>The self-generated sequences a run with <paramref name="calibrationSequences"/> calibration sequences adds.</summary>
    public int SelfSamplesFor(int calibrationSequences) => SelfSamples ?? DefaultSelfSamplesPerCalibrationSequence * calibrationSequences;

    /// <summary>Seed of the batch order (and of the self-generated sequences).</summary>
    public int Seed { get; init; } = 0;

    public QatOptions Validate()
    {
        if (Steps < 1) throw new ArgumentException($"--qat-steps must be at least 1 (got {Steps})");
        if (Validations < 1) throw new ArgumentException($"QAT validations must be at least 1 (got {Validations})");
        if (SelfSamples < 0) throw new ArgumentException($"--qat-self must be 0 or more (got {SelfSamples})");
        if (BatchSize < 1) throw new ArgumentException($"--qat-batch must be at least 1 (got {BatchSize})");
        if (!(WeightLearningRate >= 0) || float.IsInfinity(WeightLearningRate))
            throw new ArgumentException($"--qat-lr must be a finite number >= 0 (got {WeightLearningRate})");
        if (!(ScaleLearningRate >= 0) || float.IsInfinity(ScaleLearningRate))
            throw new ArgumentException($"--qat-scale-lr must be a finite number >= 0 (got {ScaleLearningRate})");
        if (!(NormLearningRate >= 0) || float.IsInfinity(NormLearningRate))
            throw new ArgumentException($"--qat-norm-lr must be a finite number >= 0 (got {NormLearningRate})");
        return this;
    }
}
