using AwqRuntime.Tokenization;

namespace AwqRuntime.Generation;

/// <summary>
/// The tokens that close an assistant turn in the chat formats of the families we run, found in a
/// vocabulary: a chat stops at any of them (llama-server does the same with its end-of-generation
/// set). Llama 3 ends turns with &lt;|eot_id|&gt; (its EOS is &lt;|end_of_text|&gt;), ChatML / Qwen2 with
/// &lt;|im_end|&gt;, Phi-3 with &lt;|end|&gt;, Gemma with &lt;end_of_turn&gt;.
/// </summary>
public static class EndOfTurnTokens
{
    private static readonly string[] Known = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<|eom_id|>"];

    /// <summary>Ids of the known end-of-turn control tokens this vocabulary has, plus its EOS.</summary>
    public static IReadOnlySet<int> Find(TokenizerSpec spec)
    {
        var ids = new HashSet<int>();
        if (spec.EosId >= 0) ids.Add(spec.EosId);
        for (var id = 0; id < spec.VocabSize; id++)
            if (spec.Types[id] is TokenType.Control or TokenType.UserDefined && Known.Contains(spec.Tokens[id])) ids.Add(id);
        return ids;
    }
}
