namespace AwqRuntime.Quantization;

/// <summary>What happened to one block: the scale search of each group, clip errors, timing.</summary>
public sealed record BlockReport(int Layer, IReadOnlyList<ScaleSearchResult> Scales, IReadOnlyDictionary<string, double> ClipErrors,
    IReadOnlyList<string> SkippedGroups, TimeSpan Elapsed);

/// <summary>Progress of a quantization run, for progress bars: block i of N and the step inside it.</summary>
public sealed record QuantProgress(int Layer, int Layers, string Step, int StepIndex, int Steps);
