using AwqRuntime.Generation;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Chat;

/// <summary>`awq chat` through piped stdin on stories260K with an explicit template file.</summary>
public class ChatCommandTests
{
    private const string Template = "{% for m in messages %}[{{ m.role }}]: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}[assistant]:{% endif %}";

    private static string Render(params (string Role, string Content)[] turns) =>
        string.Concat(turns.Select(t => $"[{t.Role}]: {t.Content}\n")) + "[assistant]:";

    private static string Greedy(string prompt, int n)
    {
        using var m = AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512);
        return m.CreateGenerator(512).Generate(prompt, new GenerationOptions { MaxTokens = n, Sampling = SamplingOptions.Greedy }).Text;
    }

    [Fact]
    public void Piped_turns_are_answered_with_history_reset_and_system_prompt_then_exit()
    {
        using var dir = new TempDir("chat");
        var template = dir.File("chat.jinja");
        File.WriteAllText(template, Template);
        var input = "Hello there\nTell me more\n/reset\n/system Be brief\nHi\n/exit\nnever read\n";
        var r = AwqCli.RunWithInput(input, "chat", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--chat-template", template,
            "--temp", "0", "-n", "16", "--ctx", "512");
        Assert.True(r.ExitCode == 0, r.ToString());
        var answers = r.Stdout.Split('\n');
        var first = Greedy(Render(("user", "Hello there")), 16);
        Assert.Equal(first, answers[0]);
        var second = Greedy(Render(("user", "Hello there"), ("assistant", first.Trim()), ("user", "Tell me more")), 16);
        Assert.Equal(second, answers[1]);
        var third = Greedy(Render(("system", "Be brief"), ("user", "Hi")), 16);
        Assert.Equal(third, answers[2]);
        Assert.Equal(4, answers.Length); // three answers and the final newline: "never read" was not
        Assert.Contains("(conversation reset)", r.Stderr);
        Assert.Contains("tok/s]", r.Stderr);
        Assert.DoesNotContain("> ", r.Stderr); // no prompt marks when stdin is a pipe
    }

    [Fact]
    public void A_model_without_a_template_and_an_unknown_template_fail_with_one_line()
    {
        AwqCli.FailWithOneLine("--chat-template", "chat", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512);
        AwqCli.FailWithOneLine("nosuch", "chat", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--chat-template", "nosuch");
    }

    [Fact]
    public void The_oldest_turns_leave_when_the_conversation_outgrows_the_context()
    {
        using var dir = new TempDir("chat-trim");
        var template = dir.File("chat.jinja");
        File.WriteAllText(template, Template);
        var lines = string.Concat(Enumerable.Range(0, 12).Select(i => $"Tell me a long story about the number {i} and a big red dog\n"));
        var r = AwqCli.RunWithInput(lines, "chat", SharedData.Stories260KBin, "--tokenizer", SharedData.Tok512, "--chat-template", template,
            "--temp", "0", "-n", "24", "--ctx", "160", "--system", "You are kind");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal(12, r.StderrLines.Count(l => l.StartsWith("[prompt ")));
        // Every prompt fit: none exceeded the context, so every answer ran.
        foreach (var l in r.StderrLines.Where(l => l.StartsWith("[prompt ")))
            Assert.True(int.Parse(l["[prompt ".Length..].Split(' ')[0]) < 160, l);
    }
}
