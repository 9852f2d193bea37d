namespace AwqRuntime.Generation.ChatTemplates;

/// <summary>Anything a template can call.</summary>
internal interface ICallable
{
    string Name { get; }

    object? Call(Renderer renderer, CallArgs args);
}

/// <summary>A global function or a bound method implemented in C#.</summary>
internal sealed class BuiltinFunction(string name, Func<Renderer, CallArgs, object?> body) : ICallable
{
    public string Name { get; } = name;

    public object? Call(Renderer renderer, CallArgs args) => body(renderer, args);
}
