using AwqRuntime.Generation;

namespace AwqRuntime.Tests.Server;

/// <summary>The chat page at GET /, used in headless Chromium: type a message, read the streamed answer.</summary>
public class ChatPageTests(ChatPageTests.Fixture f) : IClassFixture<ChatPageTests.Fixture>
{
    /// <summary>A server without an API key (the page sends none), stories260K and the explicit chat format.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public AwqModel Model { get; } = AwqModel.FromPretrained(SharedData.Stories260KBin, SharedData.Tok512);
        public AwqRuntime.Server.AwqServer Server { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = new AwqRuntime.Server.AwqServer(Model.Model, Model.Tokenizer,
                new AwqRuntime.Server.ServerOptions { Port = 0, Parallel = 2, ContextSize = 512, ModelId = "stories260K" },
                turns => Model.Tokenizer.Encode(ServerFixture.Render(turns), addBos: true));
            await Server.StartAsync();
        }

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            Model.Dispose();
        }
    }

    [Fact]
    public async Task A_message_typed_into_the_page_gets_the_streamed_answer()
    {
        // CI installs Debian's chromium (.ci/run); a machine without it cannot run this test.
        Assert.True(HeadlessChromium.Executable != null, "chromium is not installed: apt-get install chromium");
        var expected = f.Model.CreateGenerator(512).Generate(ServerFixture.Render([new ChatTurn("user", "Tell me a story")]),
            new GenerationOptions { MaxTokens = 256, Sampling = new SamplingOptions { Temperature = 1f, TopP = 1f, TopK = 0, MinP = 0f, Seed = 1 } });
        await using var browser = await HeadlessChromium.StartAsync(f.Server.Url + "/");
        await browser.WaitForAsync("document.getElementById('input')", TimeSpan.FromSeconds(20));
        // The page sends no temperature: pin the server's sampling through a seed by overriding fetch's body.
        await browser.EvaluateAsync("""
            (() => { const orig = window.fetch; window.fetch = (u, o) => { const b = JSON.parse(o.body); b.seed = 1; b.temperature = 1; o.body = JSON.stringify(b); return orig(u, o); }; })()
            """);
        await browser.EvaluateAsync("document.getElementById('input').value = 'Tell me a story'; document.getElementById('send').click();");
        await browser.WaitForAsync("document.getElementById('status').textContent === 'done'", TimeSpan.FromSeconds(60));
        var answer = (string?)await browser.EvaluateAsync("document.getElementById('answer-1').textContent");
        Assert.Equal(expected.Text, answer);
        var user = (string?)await browser.EvaluateAsync("document.querySelector('#log .user').textContent");
        Assert.Equal("Tell me a story", user);
    }
}
