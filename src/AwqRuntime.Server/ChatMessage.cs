namespace AwqRuntime.Server;

/// <summary>One message of a chat request: OpenAI's {role, content}, content flattened to text.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>Turns a conversation into prompt token ids (chat template + tokenizer); throws <see cref="ApiError"/> or ArgumentException for one it cannot render.</summary>
public delegate int[] ChatPromptBuilder(IReadOnlyList<ChatMessage> messages);
