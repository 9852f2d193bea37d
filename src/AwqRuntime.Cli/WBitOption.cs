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

    /// <summary>`--w-bit-for KIND=BITS` (repeatable, or comma-separated): the kinds quantized at a width of their own.</summary>
    public static Dictionary<string, int> ParseFor(QuantMethod method, IEnumerable<string>? values)
    {
        var result = new Dictionary<string, int>();
        foreach (var item in (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!method.IsInt4()) throw new ArgumentException($"--w-bit-for applies to rtn, awq, gptq, awq+gptq and qat, not {method.Name()}");
            var eq = item.IndexOf('=');
            if (eq <= 0 || !int.TryParse(item[(eq + 1)..], out var b))
                throw new ArgumentException($"--w-bit-for '{item}' is not KIND=BITS (e.g. down_proj=8)");
            var kind = item[..eq].Trim();
            if (!AwqRuntime.Model.LinearKinds.TryParse(kind, out _))
                throw new ArgumentException($"--w-bit-for '{item}': '{kind}' is not one of {string.Join(", ", AwqRuntime.Model.LinearKinds.All.Select(AwqRuntime.Model.LinearKinds.Name))}");
            if (b is not (2 or 3 or 4 or 8)) throw new ArgumentException($"--w-bit-for '{item}': use {Valid} bits");
            if (!result.TryAdd(kind, b)) throw new ArgumentException($"--w-bit-for names {kind} twice");
        }
        return result;
    }
}
