using System.Text.Json;

namespace AwqRuntime.Tests;

/// <summary>
/// ../shared/models/stories260K/reference_outputs.json, produced by an independent float64 Python
/// forward pass of llama2.c's run.c (see that folder's SOURCE.md).
/// </summary>
internal sealed class Stories260KReference
{
    private static readonly Lazy<Stories260KReference> Instance = new(() => new Stories260KReference(SharedData.ReferenceOutputs));

    public static Stories260KReference Load() => Instance.Value;

    private Stories260KReference(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        GreedyFromBos = Ints(root.GetProperty("greedy_from_bos").GetProperty("generated_ids"));
        GreedyText = root.GetProperty("greedy_from_bos").GetProperty("text").GetString()!;
        var zoo = root.GetProperty("prompt_zoo");
        ZooPrompt = zoo.GetProperty("prompt").GetString()!;
        ZooText = zoo.GetProperty("text").GetString()!;
        ZooPromptIds = Ints(zoo.GetProperty("encoded_prompt_ids"));
        ZooEmittedIncludingPrompt = Ints(zoo.GetProperty("emitted_ids_including_prompt"));
        var logits = root.GetProperty("logits_reference");
        LogitPositions = Ints(logits.GetProperty("positions"));
        Logits = logits.GetProperty("logits").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var ppl = root.GetProperty("perplexity_reference");
        PerplexityTokenIds = Ints(ppl.GetProperty("token_ids"));
        PerplexityScoredTokens = ppl.GetProperty("scored_tokens").GetInt32();
        PerplexityMeanNll = ppl.GetProperty("mean_nll_nats").GetDouble();
    }

    /// <summary>256 ids generated greedily after BOS (token 1).</summary>
    public int[] GreedyFromBos { get; }

    public string GreedyText { get; }

    public string ZooPrompt { get; }

    public int[] ZooPromptIds { get; }

    /// <summary>The prompt followed by the generated text, as llama2.c printed it.</summary>
    public string ZooText { get; }

    /// <summary>llama2.c prints the prompt tokens after BOS, then the generated ones (60 in all).</summary>
    public int[] ZooEmittedIncludingPrompt { get; }

    public int[] LogitPositions { get; }

    /// <summary>Full 512-logit rows at <see cref="LogitPositions"/> for the sequence [1] + GreedyFromBos.</summary>
    public double[][] Logits { get; }

    public int[] PerplexityTokenIds { get; }

    public int PerplexityScoredTokens { get; }

    public double PerplexityMeanNll { get; }

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
