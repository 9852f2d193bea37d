using System.CommandLine;
using AwqRuntime.Formats.Gguf;
using AwqRuntime.Quantization;
using Spectre.Console;

namespace AwqRuntime.Cli.Commands;

/// <summary>`awq calibrate MODEL --imatrix OUT.gguf`: the calibration statistics as a llama.cpp imatrix file.</summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokenizer = CliOptions.Tokenizer();
        var imatrix = new Option<string>("--imatrix") { Description = "Output importance-matrix GGUF (llama.cpp's imatrix format, for llama-quantize --imatrix)", Required = true };
        var calib = new Option<string?>("--calib") { Description = "Calibration text file, or 'self' (default inside this repo: ../shared/data/tinystories_calib.txt)" };
        var samples = new Option<int>("--calib-samples") { Description = "Calibration sequences", DefaultValueFactory = _ => 128 };
        var seqLen = new Option<int>("--calib-seqlen") { Description = "Tokens per calibration sequence (the imatrix chunk size)", DefaultValueFactory = _ => 512 };
        var seed = new Option<ulong>("--seed") { Description = "Seed for --calib self", DefaultValueFactory = _ => 42UL };
        var threads = CliOptions.Threads();
        var cmd = new Command("calibrate", "Run the calibration forward and write each linear's input statistics as a llama.cpp imatrix GGUF")
        {
            model, tokenizer, imatrix, calib, samples, seqLen, seed, threads,
        };
        cmd.SetAction(parse => CliErrors.Run(() =>
        {
            CliOptions.ApplyThreads(parse.GetValue(threads));
            using var m = AwqModel.FromPretrained(parse.GetValue(model)!, parse.GetValue(tokenizer));
            var set = QuantizeCommand.Calibration(m, parse.GetValue(calib), parse.GetValue(samples), parse.GetValue(seqLen), parse.GetValue(seed));
            // Statistics come from the unquantized model's calibration forward; RTN's rounding reads none of them.
            var result = AwqQuantizer.Quantize(m.Source, set, new AwqConfig { Method = QuantMethod.Rtn, CaptureStatistics = true });
            var path = parse.GetValue(imatrix)!;
            ImatrixWriter.Write(path, result.ActivationStats, set.Source, set.SeqLen);
            CliOptions.Status.MarkupLine(Markup.Escape(
                $"imatrix: {result.ActivationStats.Count} entries over {set.TokenCount} tokens ({set.Samples.Length} chunks of {set.SeqLen}) → {Path.GetFullPath(path)}"));
            return 0;
        }));
        return cmd;
    }
}
