using AwqRuntime.Model;

namespace AwqRuntime.Quantization.Methods;

/// <summary>The method a run's <see cref="AwqConfig.Method"/> names.</summary>
internal static class QuantizationMethods
{
    public static IQuantizationMethod Create(LlamaConfig model, AwqConfig config) => config.Method switch
    {
        QuantMethod.Awq => new AwqMethod(model, config),
        QuantMethod.Rtn => new RtnMethod(config),
        QuantMethod.Gptq => new GptqMethod(config),
        QuantMethod.AwqGptq => new AwqGptqMethod(model, config),
        QuantMethod.W8A8Dynamic => new W8A8DynamicMethod(),
        QuantMethod.W8A8Static => new W8A8StaticMethod(config),
        QuantMethod.Qat => new QatMethod(model, config),
        _ => throw new ArgumentOutOfRangeException(nameof(config), $"unknown quantization method {config.Method}"),
    };
}
