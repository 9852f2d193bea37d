namespace AwqRuntime.Tests.Cli;

/// <summary>The CLI's shared option handling, reached from tests.</summary>
internal static class CliOptionsAccess
{
    public static void ApplyClassifier(string choice, AwqModel m) => AwqRuntime.Cli.CliOptions.ApplyClassifier(choice, m);
}
