using AwqRuntime.Quantization;

namespace AwqRuntime.Cli;

/// <summary>`--w-bit`, checked before anything is loaded: the widths group-wise methods take, and only for them.</summary>
internal static class WBitOption
{
    public const string Valid = "2, 3, 4 or 8";

    /// <param name="given">Whether the option was on the command line (rather than its default of 4).</param>
    public static void Check(QuantMethod method, int bits, bool given)
    {
        if (!method.IsInt4())
        {
            if (given) throw new ArgumentException($"--w-bit applies to rtn, awq, gptq, awq+gptq ({Valid}) and qat (4), not {method.Name()}, whose weights are INT8 per channel");
            return;
        }
        if (bits is not (2 or 3 or 4 or 8)) throw new ArgumentException($"--w-bit {bits} is not supported: use {Valid}");
        if (method == QuantMethod.Qat && bits != 4) throw new ArgumentException($"--w-bit {bits}: qat trains 4-bit weights (2, 3 and 8 bits: awq, rtn, gptq, awq+gptq)");
    }
}
