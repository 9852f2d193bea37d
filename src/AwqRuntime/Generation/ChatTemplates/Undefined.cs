namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>
/// Jinja's default Undefined (what transformers renders with): falsy, prints as "", iterates as empty,
/// has length 0, equals only another Undefined; attribute access, item access, arithmetic, ordering
/// and calls on it fail with <see cref="Description"/>.
/// </summary>
internal sealed class Undefined
{
    private Undefined(string description) => Description = description;

    /// <summary>Jinja's wording: "'x' is undefined" or "'dict object' has no attribute 'y'".</summary>
    public string Description { get; }

    public static Undefined Named(string name) => new($"'{name}' is undefined");

    public static Undefined Missing(object? owner, string attribute) =>
        new($"'{PyOps.TypeName(owner)} object' has no attribute '{attribute}'");

    public static Undefined Because(string description) => new(description);

    public TemplateError Fail() => new(Description);
}
