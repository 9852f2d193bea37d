namespace AwqRuntime.Fuzz;

/// <summary>What one case changed: which file, and a human-readable list of the edits (for the report and replays).</summary>
public sealed record Mutation(string File, byte[] Bytes, IReadOnlyList<string> Edits)
{
    public override string ToString() => $"{File}: {string.Join("; ", Edits)}";
}
