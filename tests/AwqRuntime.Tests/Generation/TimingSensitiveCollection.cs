namespace AwqRuntime.Tests.Generation;

/// <summary>
/// Tests whose subject is timing (a cancellation landing while generation still runs): they run
/// alone, after the parallel ones, so a starved thread pool cannot let the model finish first.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitiveCollection
{
    public const string Name = "timing-sensitive";
}
