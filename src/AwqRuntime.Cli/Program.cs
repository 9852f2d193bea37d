using System.CommandLine;
using AwqRuntime.Cli.Commands;

namespace AwqRuntime.Cli;

/// <summary>The `awq` command: one subcommand per file under Commands/.</summary>
public static class Program
{
    public static int Main(string[] args) => CliErrors.Invoke(BuildRoot(), args);

    /// <summary>The full command tree (also used by tests to run commands in-process).</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "AwqRuntime: AWQ 4-bit quantization of LLaMA models, a CPU runtime for them, and comparisons with llama.cpp.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(BenchServeCommand.Create());
        root.Subcommands.Add(TemplateCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(CalibrateCommand.Create());
        root.Subcommands.Add(ExportCommands.ExportGguf());
        root.Subcommands.Add(ExportCommands.ExportHf());
        root.Subcommands.Add(ExportCommands.Synth());
        root.Subcommands.Add(CompareCommand.Create());
        root.Subcommands.Add(DemoCommand.Create());
        return root;
    }
}
