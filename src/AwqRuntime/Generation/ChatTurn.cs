namespace AwqRuntime.Generation;

/// <summary>One message of a conversation: a role ("system", "user", "assistant", "tool") and its text.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>Turns a conversation into prompt token ids (chat template + tokenizer); throws ArgumentException for one it cannot render.</summary>
public delegate int[] ChatPromptEncoder(IReadOnlyList<ChatTurn> conversation);
