namespace AwqRuntime.Tests;

/// <summary>
/// Finds ../shared (models, data, tokenizer vectors) relative to the repository root, which is
/// found by walking up from the test assembly to the folder holding AwqRuntime.sln. Never copy
/// these files into the repo.
/// </summary>
public static class SharedData
{
    private static readonly Lazy<string> RepoRootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AwqRuntime.sln"))) return dir.FullName;
        throw new InvalidOperationException("AwqRuntime.sln not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>The ../shared folder beside the repository (AWQ_SHARED overrides).</summary>
    public static string Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("AWQ_SHARED");
            var root = string.IsNullOrEmpty(env) ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared")) : env;
            if (!Directory.Exists(root))
                throw new DirectoryNotFoundException($"shared data folder not found at {root} (set AWQ_SHARED)");
            return root;
        }
    }

    public static string Path_(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Stories260KDir => Path_("models", "stories260K");
    public static string Stories260KBin => Path_("models", "stories260K", "stories260K.bin");
    public static string Stories260KGguf => Path_("models", "stories260K", "stories260K.gguf");
    public static string Tok512 => Path_("models", "stories260K", "tok512.bin");
    public static string ReferenceOutputs => Path_("models", "stories260K", "reference_outputs.json");
    public static string Llama2TokenizerDir => Path_("models", "llama2-tokenizer");
    public static string CalibText => Path_("data", "tinystories_calib.txt");
    public static string EvalText => Path_("data", "tinystories_eval.txt");
    public static string TokenizerVectors => Path_("tokenizer-vectors");
}
