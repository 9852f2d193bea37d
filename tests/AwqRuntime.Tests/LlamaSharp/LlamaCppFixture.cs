using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

/// <summary>stories260K loaded once with an F32 KV cache (reference comparisons need it).</summary>
public sealed class LlamaCppFixture : IDisposable
{
    public static readonly LlamaCppOptions F32Options = new() { ContextSize = 512, Threads = 2, KvCacheType = KvCacheType.F32 };

    public LlamaCppModel Model { get; } = LlamaCppModel.Load(SharedData.Stories260KGguf, F32Options);

    public void Dispose() => Model.Dispose();
}

/// <summary>
/// All llama.cpp tests run one after another: llama.cpp's log callback is process-wide, and the box
/// has two cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LlamaCppCollection : ICollectionFixture<LlamaCppFixture>
{
    public const string Name = "llama.cpp";
}
