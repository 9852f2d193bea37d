namespace AwqRuntime.Model.Families;

/// <summary>Every model family AwqRuntime runs, and lookups by the names formats use.</summary>
public static class ModelFamilies
{
    public static ModelFamily Llama => LlamaFamily.Instance;
    public static ModelFamily Mistral => MistralFamily.Instance;
    public static ModelFamily Qwen2 => Qwen2Family.Instance;

    public static IReadOnlyList<ModelFamily> All { get; } = [LlamaFamily.Instance, MistralFamily.Instance, Qwen2Family.Instance];

    /// <summary>The family of a config.json model_type, or null.</summary>
    public static ModelFamily? FromHfModelType(string modelType) => All.FirstOrDefault(f => f.HfModelType == modelType);

    /// <summary>The family of a transformers class name (LlamaForCausalLM, …), or null.</summary>
    public static ModelFamily? FromHfArchitecture(string architecture) => All.FirstOrDefault(f => f.HfArchitecture == architecture);

    /// <summary>
    /// The family a GGUF general.architecture runs as, or null. "llama" is LLaMA (Mistral GGUFs use it too:
    /// they carry nothing that tells them apart).
    /// </summary>
    public static ModelFamily? FromGgufArchitecture(string arch) => arch switch
    {
        "llama" => LlamaFamily.Instance,
        "qwen2" => Qwen2Family.Instance,
        _ => null,
    };

    public static string Names => string.Join(", ", All.Select(f => f.Name));
}
