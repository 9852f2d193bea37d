namespace AwqRuntime.Fuzz;

/// <summary>How one case ended.</summary>
public enum VerdictKind
{
    /// <summary>The mutated input loaded and ran (a mutation can leave a file valid: a changed score, a renamed unused key).</summary>
    Loaded,

    /// <summary>Refused with an error the user can act on: an expected exception type whose message names the file or folder.</summary>
    Rejected,

    /// <summary>A finding: a crash-type exception, an error that names no file, a hang, or memory exhaustion.</summary>
    Defect,
}

/// <summary>A case's outcome and, for refusals and findings, a category (exception type and a stable message prefix).</summary>
public sealed record Verdict(VerdictKind Kind, string Category, string? Message = null);
