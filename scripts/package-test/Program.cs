// The consumer side of scripts/package-test.sh: a fresh console app that references only the
// AwqRuntime NuGet package, loads stories260K, generates greedily from BOS and checks the tokens
// against llama2.c's own greedy output (reference_outputs.json beside the model).
using System.Text.Json;
using AwqRuntime;
using AwqRuntime.Generation;

if (args.Length != 1) { Console.Error.WriteLine("usage: consumer MODEL_DIR"); return 2; }
var dir = args[0];
using var model = AwqModel.FromPretrained(Path.Combine(dir, "stories260K.bin"), Path.Combine(dir, "tok512.bin"));

using var reference = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, "reference_outputs.json")));
var expected = reference.RootElement.GetProperty("greedy_from_bos").GetProperty("generated_ids")
    .EnumerateArray().Select(e => e.GetInt32()).Take(64).ToArray();

var generator = model.CreateGenerator();
var result = generator.Generate([1], new GenerationOptions { MaxTokens = expected.Length, StopAtEos = false });
Console.WriteLine(result.Text.Trim());
var got = result.Tokens.ToArray();
if (!got.SequenceEqual(expected))
{
    Console.Error.WriteLine($"consumer: greedy tokens differ from llama2.c's: got [{string.Join(',', got.Take(16))}…], expected [{string.Join(',', expected.Take(16))}…]");
    return 1;
}
Console.WriteLine($"consumer: {got.Length} greedy tokens equal llama2.c's reference");
return 0;
