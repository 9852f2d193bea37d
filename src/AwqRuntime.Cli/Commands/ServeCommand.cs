using System.CommandLine;
using AwqRuntime.Server;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq serve MODEL`: the OpenAI-compatible HTTP API with continuous batching, until Ctrl-C.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var host = new Option<string>("--host") { Description = "Address to bind (loopback unless you mean otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "TCP port (0 = any free one)", DefaultValueFactory = _ => 8080 };
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on every /v1 request" };
        var parallel = new Option<int>("--parallel", "-np") { Description = "Sequences decoded together (continuous batching slots)", DefaultValueFactory = _ => 4 };
        var ctx = new Option<int>("--ctx") { Description = "Tokens per slot, prompt and completion together (default: the model's context)" };
        var maxQueue = new Option<int>("--max-queue") { Description = "Requests waiting for a slot beyond which new ones get 429", DefaultValueFactory = _ => 64 };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a request may generate before it is stopped", DefaultValueFactory = _ => 600 };
        var bodyLimit = new Option<long>("--max-body") { Description = "Largest request body in bytes", DefaultValueFactory = _ => 1L << 20 };
        var headersTimeout = new Option<double>("--headers-timeout") { Description = "Seconds a client may take to send its request headers (then 408)", DefaultValueFactory = _ => 10 };
        var bodyTimeout = new Option<double>("--body-timeout") { Description = "Seconds a client may take to send its whole request body (then 408)", DefaultValueFactory = _ => 30 };
        var idleTimeout = new Option<double>("--idle-timeout") { Description = "Seconds a keep-alive connection may sit idle before it is closed", DefaultValueFactory = _ => 60 };
        var maxConnections = new Option<int>("--max-connections") { Description = "Open connections beyond which new ones are refused", DefaultValueFactory = _ => 1024 };
        var modelId = new Option<string?>("--model-id") { Description = "The model name /v1/models lists (default: the model's name)" };
        var chatTemplate = TemplateCommand.ChatTemplateOption();
        var runtime = new RuntimeChoices();
        var threads = CliOptions.Threads();
        var allowNonFinite = CliOptions.AllowNonFinite();
        var cmd = new Command("serve", "Serve an OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models) with continuous batching")
        {
            model, tokenizer, host, port, apiKey, parallel, ctx, maxQueue, timeout, bodyLimit, headersTimeout, bodyTimeout, idleTimeout, maxConnections, modelId, chatTemplate, runtime.Classifier, runtime.Kernel, runtime.Device, threads, allowNonFinite,
        };
        cmd.SetAction((parse, cancel) => CliErrors.RunAsync(async () =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            CliOptions.InRange(parse.GetValue(ctx), "--ctx", 0, meaning: "0 = the model's context");
            using var m = AwqModel.Load(parse.GetValue(model)!, parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
            runtime.Apply(parse, m);
            var options = new ServerOptions
            {
                Host = parse.GetValue(host)!, Port = parse.GetValue(port), ApiKey = parse.GetValue(apiKey), Parallel = parse.GetValue(parallel),
                ContextSize = parse.GetValue(ctx), MaxQueue = parse.GetValue(maxQueue), RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                MaxBodyBytes = parse.GetValue(bodyLimit), ModelId = parse.GetValue(modelId) ?? m.Config.Name,
                HeadersTimeout = Seconds(parse.GetValue(headersTimeout), "--headers-timeout"), BodyTimeout = Seconds(parse.GetValue(bodyTimeout), "--body-timeout"),
                IdleTimeout = Seconds(parse.GetValue(idleTimeout), "--idle-timeout"), MaxConnections = parse.GetValue(maxConnections),
            }.Validate(); // before any note is printed: a bad limit is the only line
            var template = TemplateCommand.Resolve(parse.GetValue(chatTemplate), m.Tokenizer.Spec, m.Path);
            if (template == null)
                Console.Error.WriteLine("note: the model has no chat template, so /v1/chat/completions answers 400; give one with --chat-template NAME|FILE");
            await using var server = new AwqServer(m.Model, m.Tokenizer, options,
                template is null ? null : AwqRuntime.Generation.ChatTemplates.ChatPromptEncoders.For(template, m.Tokenizer));
            await server.StartAsync(cancel);
            Console.Error.WriteLine($"serving {options.ModelId} on {server.Url} ({options.Parallel} slots of {server.Scheduler.ContextSize} tokens); Ctrl-C stops");
            try
            {
                await Task.Delay(Timeout.Infinite, cancel);
            }
            catch (OperationCanceledException)
            {
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>A positive, finite number of seconds (at most a day), named by its flag when it is not.</summary>
    private static TimeSpan Seconds(double value, string flag) =>
        double.IsFinite(value) && value > 0 && value <= 86_400 ? TimeSpan.FromSeconds(value)
            : throw new ArgumentException($"{flag} must be a number of seconds in (0, 86400] (got {value})");
}
