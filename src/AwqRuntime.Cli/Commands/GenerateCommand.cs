using System.CommandLine;
using System.Globalization;
using System.Text;
using AwqRuntime.Generation;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq generate MODEL --prompt …`: streams the continuation to stdout, then prefill/decode speed to stderr.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text (default: empty, i.e. start from BOS)", DefaultValueFactory = _ => "" };
        var steps = new Option<int>("--max-tokens", "-n") { Description = "Tokens to generate", DefaultValueFactory = _ => 256 };
        var temp = new Option<float>("--temp") { Description = "Temperature; ≤ 0 = greedy (as llama.cpp)", DefaultValueFactory = _ => 0.8f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (≤ 0 = off, as llama.cpp)", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling threshold in (0, 1] (1 = off)", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Drop tokens below min-p × the top probability (0 = off)", DefaultValueFactory = _ => 0.05f };
        var repeat = new Option<float>("--repeat-penalty") { Description = "Repetition penalty (1 = off)", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0x5EEDUL };
        var stop = new Option<string[]>("--stop") { Description = "Stop when this text appears (repeatable)", AllowMultipleArgumentsPerToken = false };
        var ctx = new Option<int>("--ctx") { Description = "Context size (0 or omitted: the model's)" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "Keep generating past the end-of-sequence token" };
        var runtime = new RuntimeChoices();
        var threads = CliOptions.Threads();
        var allowNonFinite = CliOptions.AllowNonFinite();
        var quiet = CliOptions.Quiet();
        var json = CliOptions.Json();
        var cmd = new Command("generate", "Generate text from a prompt, streaming tokens as they come")
        {
            model, tokenizer, prompt, steps, temp, topK, topP, minP, repeat, seed, stop, ctx, ignoreEos, runtime.Classifier, runtime.Kernel, runtime.Device, threads, allowNonFinite, quiet, json,
        };
        cmd.SetAction((parse, cancel) => CliErrors.RunAsync(async () =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            CliOptions.InRange(parse.GetValue(ctx), "--ctx", 0, meaning: "0 = the model's context");
            using var m = AwqModel.Load(parse.GetValue(model)!, parse.GetValue(tokenizer), parse.GetValue(allowNonFinite));
            runtime.Apply(parse, m);
            var options = new GenerationOptions
            {
                MaxTokens = parse.GetValue(steps),
                Sampling = new SamplingOptions
                {
                    Temperature = parse.GetValue(temp), TopK = parse.GetValue(topK), TopP = parse.GetValue(topP), MinP = parse.GetValue(minP),
                    RepetitionPenalty = parse.GetValue(repeat), Seed = parse.GetValue(seed),
                }.Validate(),
                StopStrings = parse.GetValue(stop) ?? [],
                StopAtEos = !parse.GetValue(ignoreEos),
            };
            var generator = m.CreateGenerator(parse.GetValue(ctx));
            var promptText = parse.GetValue(prompt) ?? "";
            var ids = generator.EncodePrompt(promptText, options);
            var asJson = parse.GetValue(json);
            var text = new StringBuilder();
            var stdout = Console.Out;
            var stream = generator.Stream(ids, options, cancel); // checks the arguments before anything is printed
            if (!asJson) { stdout.Write(promptText); stdout.Flush(); }
            foreach (var chunk in stream)
            {
                text.Append(chunk.Text);
                if (!asJson && chunk.Text.Length > 0) { stdout.Write(chunk.Text); stdout.Flush(); }
            }
            var stats = generator.LastStats!;
            if (asJson)
            {
                CliOptions.PrintJson(new
                {
                    prompt = promptText, text = text.ToString(), prompt_tokens = stats.PromptTokens, generated_tokens = stats.GeneratedTokens,
                    stop_reason = stats.StopReason.ToString(), prefill_tokens_per_second = stats.PrefillTokensPerSecond,
                    decode_tokens_per_second = stats.DecodeTokensPerSecond, threads = Native.Kernels.Threads,
                });
                return 0;
            }
            stdout.WriteLine();
            if (!parse.GetValue(quiet))
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{stats.PromptTokens} prompt tokens, {stats.GeneratedTokens} generated ({stats.StopReason}); prefill {stats.PrefillTokensPerSecond:F1} tok/s, decode {stats.DecodeTokensPerSecond:F1} tok/s, {Native.Kernels.Threads} threads]"));
            await Task.CompletedTask;
            return 0;
        }));
        return cmd;
    }
}
