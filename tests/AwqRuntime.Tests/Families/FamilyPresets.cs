using AwqRuntime.LlamaSharp;
using AwqRuntime.Tests.Acceptance;
using AwqRuntime.Tests.Formats;
using AwqRuntime.Tests.LlamaSharp;

namespace AwqRuntime.Tests.Families;

/// <summary>
/// One synthetic model per family, made the way a user would: `awq synth --preset llama3|mistral|qwen2`
/// (Llama 2 tokenizer), then `awq export-gguf`, then llama.cpp loading that GGUF; once for the class.
/// </summary>
public sealed class FamilyPresets : IDisposable
{
    public static readonly string[] Names = ["llama3", "mistral", "qwen2"];

    private readonly TempDir _dir = new("families");
    private readonly Dictionary<string, LlamaCppModel> _llama = new();

    public FamilyPresets()
    {
        foreach (var name in Names)
        {
            AwqCli.Succeed("synth", "--preset", name, "--out", Folder(name));
            AwqCli.Succeed("export-gguf", Folder(name), "--out", Gguf(name), "--type", "f32");
            _llama[name] = LlamaCppModel.Load(Gguf(name), LlamaCppFixture.F32Options with { ContextSize = 512 });
        }
    }

    public string Root => _dir.Path;

    public string Folder(string preset) => Path.Combine(_dir.Path, preset);

    public string Gguf(string preset) => _dir.File($"{preset}.gguf");

    public LlamaCppModel LlamaCpp(string preset) => _llama[preset];

    public void Dispose()
    {
        foreach (var m in _llama.Values) m.Dispose();
        _dir.Dispose();
    }
}
