namespace AwqRuntime.Fuzz;

/// <summary>How a seed file is mutated: as raw bytes, or with knowledge of its structure.</summary>
public enum SeedKind
{
    /// <summary>Bytes only (bit flips, interesting integers, truncation, chunk moves).</summary>
    Binary,

    /// <summary>A GGUF file: its header fields (counts, lengths, dims, types, offsets, values) are mapped and mutated as fields.</summary>
    Gguf,

    /// <summary>A llama2.c checkpoint: the seven int32 header fields, then float weights.</summary>
    Llama2cModel,

    /// <summary>A llama2.c tokenizer.bin: max_token_length, then (score, length, bytes) per token.</summary>
    Llama2cTokenizer,

    /// <summary>A safetensors file: the JSON header is mutated as JSON, the length prefix and data as bytes.</summary>
    Safetensors,

    /// <summary>A JSON file (config.json, tokenizer.json, an index): structural and textual JSON mutations.</summary>
    Json,
}

/// <summary>One file of a target's seed: its name inside the case folder and how it is mutated.</summary>
public sealed record SeedFile(string Name, SeedKind Kind);

/// <summary>
/// A loader under test. Its seed is a folder of valid files; a case is that folder with one file mutated
/// (the others copied unchanged), handed to <see cref="Run"/>, which loads it the way `awq` would and, if
/// it loads, uses it (a short greedy generation, or a tokenizer round trip).
/// </summary>
public sealed class FuzzTarget(string name, string seedFolder, IReadOnlyList<SeedFile> files, Action<string> run)
{
    public string Name { get; } = name;

    /// <summary>The folder holding the valid seed files.</summary>
    public string SeedFolder { get; } = seedFolder;

    public IReadOnlyList<SeedFile> Files { get; } = files;

    /// <summary>Loads and uses the case folder; throws what the loader throws.</summary>
    public void Run(string caseFolder) => run(caseFolder);
}
