namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>The mutable object <c>namespace(...)</c> returns; <c>{% set ns.x = … %}</c> writes to it.</summary>
internal sealed class Namespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
