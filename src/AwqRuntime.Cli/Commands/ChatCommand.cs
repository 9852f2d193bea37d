using System.CommandLine;
using System.Globalization;
using System.Text;
using AwqRuntime.Generation;
using AwqRuntime.Generation.ChatTemplates;

namespace AwqRuntime.Cli.Commands;

/// <summary>
/// `awq chat MODEL`: a terminal chat. Each line typed is a user turn; the answer streams as it is
/// generated, then prompt and generation speed. /reset forgets the conversation, /system TEXT sets the
/// system prompt (and starts over), /exit or end of input leaves. When the conversation outgrows the
/// context the oldest turns go first (the system prompt stays). Ctrl-C stops the current answer and
/// keeps the session. Works with piped stdin (no prompt marks are printed then).
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var chatTemplate = TemplateCommand.ChatTemplateOption();
        var system = new Option<string?>("--system") { Description = "System prompt" };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most tokens per answer", DefaultValueFactory = _ => 512 };
        var temp = new Option<float>("--temp") { Description = "Temperature; 0 = greedy", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold (1 = off)", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p × the top probability (0 = off)", DefaultValueFactory = _ => 0.05f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0x5EEDUL };
        var ctx = new Option<int>("--ctx") { Description = "Context size (default: the model's)" };
        var runtime = new RuntimeChoices();
        var threads = CliOptions.Threads();
        var allowNonFinite = CliOptions.AllowNonFinite();
        var cmd = new Command("chat", "Chat with a model in the terminal (streamed answers; /reset, /system TEXT, /exit)")
        {
            model, tokenizer, chatTemplate, system, maxTokens, temp, topK, topP, minP, seed, ctx, runtime.Classifier, runtime.Kernel, runtime.Device, threads, allowNonFinite,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            CliOptions.InRange(parse.GetValue(ctx), "--ctx", 0, meaning: "0 = the model's context");
            using var m = AwqModel.Load(parse.GetValue(model)!, parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
            runtime.Apply(parse, m);
            var template = TemplateCommand.Resolve(parse.GetValue(chatTemplate), m.Tokenizer.Spec, m.Path)
                ?? throw new ArgumentException($"{m.Path}: the model carries no chat template; pick one with --chat-template NAME|FILE (built-in: {string.Join(", ", BuiltInTemplates.Names)})");
            var options = new GenerationOptions
            {
                MaxTokens = parse.GetValue(maxTokens),
                Sampling = new SamplingOptions
                {
                    Temperature = parse.GetValue(temp), TopK = parse.GetValue(topK), TopP = parse.GetValue(topP), MinP = parse.GetValue(minP), Seed = parse.GetValue(seed),
                }.Validate(),
                StopTokens = EndOfTurnTokens.Find(m.Tokenizer.Spec),
            };
            if (options.MaxTokens < 1) throw new ArgumentException($"--max-tokens must be positive (got {options.MaxTokens})");
            var session = new ChatSession(m.CreateGenerator(parse.GetValue(ctx)), ChatPromptEncoders.For(template, m.Tokenizer), options, parse.GetValue(system));
            session.Run(Console.In, Console.Out, Console.Error, interactive: !Console.IsInputRedirected);
            return 0;
        }));
        return cmd;
    }
}

/// <summary>The conversation loop of `awq chat`, over any reader and writers (tests drive it through pipes).</summary>
internal sealed class ChatSession(TextGenerator generator, ChatPromptEncoder encode, GenerationOptions options, string? system)
{
    private readonly List<ChatTurn> _turns = [];
    private string? _system = system;
    private CancellationTokenSource? _answer;

    public void Run(TextReader input, TextWriter output, TextWriter status, bool interactive)
    {
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // Ctrl-C while answering stops the answer, not the session.
            if (_answer is { } a) { e.Cancel = true; a.Cancel(); }
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (interactive) status.WriteLine("chat: /reset, /system TEXT, /exit; Ctrl-C stops an answer");
            while (true)
            {
                if (interactive) { status.Write("> "); status.Flush(); }
                var line = input.ReadLine();
                if (line == null) break;
                line = line.Trim();
                if (line.Length == 0) continue;
                if (line is "/exit" or "/quit") break;
                if (line == "/reset")
                {
                    _turns.Clear();
                    status.WriteLine("(conversation reset)");
                    continue;
                }
                if (line.StartsWith("/system", StringComparison.Ordinal))
                {
                    _system = line["/system".Length..].Trim();
                    _turns.Clear();
                    status.WriteLine(_system.Length > 0 ? "(system prompt set; conversation reset)" : "(system prompt cleared; conversation reset)");
                    continue;
                }
                if (line.StartsWith('/')) { status.WriteLine($"unknown command {line.Split(' ')[0]} (/reset, /system TEXT, /exit)"); continue; }
                Answer(line, output, status);
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private void Answer(string user, TextWriter output, TextWriter status)
    {
        _turns.Add(new ChatTurn("user", user));
        int[] prompt;
        try
        {
            prompt = Fit();
        }
        catch (ArgumentException e)
        {
            _turns.RemoveAt(_turns.Count - 1);
            status.WriteLine($"error: {e.Message}");
            return;
        }
        var text = new StringBuilder();
        using (_answer = new CancellationTokenSource())
        {
            try
            {
                foreach (var chunk in generator.Stream(prompt, options, _answer.Token))
                {
                    text.Append(chunk.Text);
                    output.Write(chunk.Text);
                    output.Flush();
                }
            }
            catch (OperationCanceledException)
            {
                status.Write(" (stopped)");
            }
            finally
            {
                _answer = null;
            }
        }
        output.WriteLine();
        _turns.Add(new ChatTurn("assistant", text.ToString().Trim()));
        if (generator.LastStats is { } s)
            status.WriteLine(string.Format(CultureInfo.InvariantCulture, "[prompt {0} tokens, {1:F1} tok/s; answer {2} tokens, {3:F1} tok/s]",
                s.PromptTokens, s.PrefillTokensPerSecond, s.GeneratedTokens, s.DecodeTokensPerSecond));
    }

    /// <summary>The prompt of the conversation, oldest turns dropped (the system prompt kept) until it leaves room for an answer.</summary>
    private int[] Fit()
    {
        while (true)
        {
            var conversation = (_system is { Length: > 0 } sys ? [new ChatTurn("system", sys)] : new List<ChatTurn>()).Concat(_turns).ToList();
            var prompt = encode(conversation);
            var room = generator.ContextSize - prompt.Length;
            if (room >= Math.Min(options.MaxTokens, generator.ContextSize / 4) || _turns.Count <= 1)
            {
                if (room < 1) throw new ArgumentException($"the message needs {prompt.Length} tokens; the context holds {generator.ContextSize}");
                return prompt;
            }
            _turns.RemoveRange(0, Math.Min(2, _turns.Count - 1)); // the oldest user turn and its answer
        }
    }
}
