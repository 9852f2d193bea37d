using AwqRuntime.Generation.ChatTemplates;

namespace AwqRuntime.Tests.ChatTemplates;

/// <summary>Our interpreter against llama.cpp's expected renderings (see <see cref="LlamaCppTemplateCase"/>).</summary>
public class LlamaCppVectorTests
{
    public static TheoryData<string> Names => new(LlamaCppTemplateCase.All.Select(c => c.Name));

    public static IReadOnlyList<ChatMessage> MessagesFor(LlamaCppTemplateCase c)
    {
        var conversation = LlamaCppTemplateCase.Conversation.Concat(c.Extra ?? []).ToList();
        if (c.MergeSystem)
        {
            conversation[1] = ("user", conversation[0].Content + "\n" + conversation[1].Content);
            conversation.RemoveAt(0);
        }
        return conversation.Select(m => new ChatMessage(m.Role, m.Content)).ToList();
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Renders_the_expected_text(string name)
    {
        var c = LlamaCppTemplateCase.All.Single(x => x.Name == name);
        var options = new ChatTemplateOptions { AddGenerationPrompt = true, BosToken = c.Bos, EosToken = c.Eos };
        var text = ChatTemplate.Parse(c.Template).Render(MessagesFor(c), options);
        Assert.Equal(c.Expected, text);
    }

    [Fact]
    public void The_vectors_are_all_there()
    {
        Assert.Equal(32, LlamaCppTemplateCase.All.Length);
        Assert.Equal(LlamaCppTemplateCase.All.Length, LlamaCppTemplateCase.All.Select(c => c.Name).Distinct().Count());
    }
}
