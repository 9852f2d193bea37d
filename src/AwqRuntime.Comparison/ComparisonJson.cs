using System.Text.Json;
using System.Text.Json.Serialization;

namespace AwqRuntime.Comparison;

/// <summary>The report as JSON (snake_case keys, like every `awq --json` output); null for what was not measured.</summary>
public static class ComparisonJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null, // tensor type names stay as ggml spells them (Q4_0)
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize(ComparisonReport report) => JsonSerializer.Serialize(report, Options);

    public static ComparisonReport Deserialize(string json) =>
        JsonSerializer.Deserialize<ComparisonReport>(json, Options) ?? throw new JsonException("the JSON holds no report");
}
