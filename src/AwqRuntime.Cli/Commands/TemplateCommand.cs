using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Generation.ChatTemplates;
using AwqRuntime.Tokenization;

namespace AwqRuntime.Cli.Commands;

/// <summary>
/// `awq template (MODEL | --chat-template NAME|FILE) --messages FILE.json`: prints the prompt the chat
/// template makes of the messages, exactly (no newline added). MODEL supplies its chat template and
/// BOS/EOS texts; only the tokenizer is read, not the weights.
/// </summary>
internal static class TemplateCommand
{
    private const string OverrideHint = "choose another with --chat-template NAME|FILE";

    public static Command Create()
    {
        var model = new Argument<string?>("model")
        {
            Arity = ArgumentArity.ZeroOrOne,
            Description = "Model whose chat template and BOS/EOS to use: a Hugging Face folder, a .gguf file, or a llama2.c .bin (with --tokenizer)",
        };
        var tokenizer = CliOptions.Tokenizer();
        var chatTemplate = new Option<string?>("--chat-template")
        {
            Description = $"A built-in template ({string.Join(", ", BuiltInTemplates.Names)}) or a file: Jinja source, or a tokenizer_config.json",
        };
        var messages = new Option<string>("--messages")
        {
            Description = "JSON file with the conversation: a list of {\"role\", \"content\"} (content a string or a list of text parts)",
            Required = true,
        };
        var addGenerationPrompt = new Option<bool>("--add-generation-prompt") { Description = "End with the header of an assistant turn" };
        var tools = new Option<string?>("--tools") { Description = "JSON file with a list of tool (function) definitions" };
        var bos = new Option<string?>("--bos-token") { Description = "BOS text (default: the model's)" };
        var eos = new Option<string?>("--eos-token") { Description = "EOS text (default: the model's)" };
        var now = new Option<string?>("--now") { Description = "Time strftime_now() sees, e.g. 2025-01-15T12:00:00 (default: the clock)" };
        var threads = CliOptions.Threads();
        var cmd = new Command("template", "Render a conversation with a chat template and print the prompt")
        {
            model, tokenizer, chatTemplate, messages, addGenerationPrompt, tools, bos, eos, now, threads,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads)); // checked like everywhere; rendering runs no kernels
            var modelPath = parse.GetValue(model);
            var templateArg = parse.GetValue(chatTemplate);
            if (modelPath is null && templateArg is null)
                throw new ArgumentException("give a MODEL or --chat-template NAME|FILE");
            var spec = modelPath is null ? null : AwqModel.ReadTokenizerSpec(modelPath, parse.GetValue(tokenizer));

            ChatTemplate template;
            if (templateArg != null) template = Load(templateArg);
            else if (spec!.ChatTemplate is { } source) template = Parse(source, modelPath!);
            else throw new InvalidDataException($"{modelPath}: the model carries no chat template; pick one with --chat-template NAME|FILE (built-in: {string.Join(", ", BuiltInTemplates.Names)})");

            var conversation = ChatMessage.ListFromJson(ReadFile(parse.GetValue(messages)!), parse.GetValue(messages)!);
            var options = (spec is null ? new ChatTemplateOptions() : ChatTemplateOptions.ForTokenizer(spec)) with
            {
                AddGenerationPrompt = parse.GetValue(addGenerationPrompt),
                Tools = parse.GetValue(tools) is { } toolsPath ? ReadTools(toolsPath) : null,
                Now = parse.GetValue(now) is { } nowText ? ParseNow(nowText) : null,
            };
            if (parse.GetValue(bos) is { } b) options = options with { BosToken = b };
            if (parse.GetValue(eos) is { } e) options = options with { EosToken = e };

            string text;
            try
            {
                text = template.Render(conversation, options);
            }
            catch (ChatTemplateRaisedException ex)
            {
                throw new InvalidOperationException($"the chat template refused the conversation: {ex.TemplateMessage}", ex);
            }
            catch (ChatTemplateException ex)
            {
                throw new InvalidOperationException($"{ex.Message} ({OverrideHint})", ex);
            }
            Console.Out.Write(text);
            Console.Out.Flush();
            return 0;
        }));
        return cmd;
    }

    internal static ChatTemplate Load(string nameOrFile)
    {
        try
        {
            return ChatTemplate.FromNameOrFile(nameOrFile);
        }
        catch (ChatTemplateException ex)
        {
            throw new InvalidDataException($"{nameOrFile}: {ex.Message} ({OverrideHint})", ex);
        }
    }

    internal static ChatTemplate Parse(string source, string origin)
    {
        try
        {
            return ChatTemplate.Parse(source);
        }
        catch (ChatTemplateException ex)
        {
            throw new InvalidDataException($"{origin}: {ex.Message} ({OverrideHint})", ex);
        }
    }

    /// <summary>The model's vocabulary, chat template and special tokens, without loading its weights.</summary>
    /// <summary>
    /// The chat template a command runs with: --chat-template NAME|FILE when given, else the model's own,
    /// else null (the caller decides whether that is an error).
    /// </summary>
    internal static ChatTemplate? Resolve(string? nameOrFile, TokenizerSpec spec, string modelPath) =>
        nameOrFile != null ? Load(nameOrFile) : spec.ChatTemplate is { } source ? Parse(source, modelPath) : null;

    /// <summary>The option shared by `template`, `chat` and `serve`.</summary>
    internal static Option<string?> ChatTemplateOption() => new("--chat-template")
    {
        Description = $"A built-in template ({string.Join(", ", BuiltInTemplates.Names)}) or a file (Jinja source or a tokenizer_config.json); default: the model's own",
    };

    private static string ReadFile(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new FileNotFoundException($"{path}: no such file", path);

    private static JsonElement ReadTools(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(ReadFile(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{path}: expected a JSON array of tool definitions, found {doc.RootElement.ValueKind}");
            return doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message.ReplaceLineEndings(" ")})", ex);
        }
    }

    /// <summary>A wall-clock time as written (an offset, if any, is ignored: strftime_now sees a naive time).</summary>
    private static DateTime ParseNow(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t)
            ? t.DateTime
            : throw new ArgumentException($"--now: '{text}' is not a date and time such as 2025-01-15T12:00:00");
}
