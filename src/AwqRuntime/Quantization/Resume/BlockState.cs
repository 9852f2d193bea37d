using System.Globalization;
using System.Text.Json;
using AwqRuntime.Formats;
using AwqRuntime.Formats.Safetensors;
using AwqRuntime.Model;
using AwqRuntime.Model.Families;
using AwqRuntime.Numerics;

namespace AwqRuntime.Quantization.Resume;

/// <summary>
/// One finished block of a quantization run as a safetensors file in the work folder: the block's
/// weights exactly as the pipeline left them (INT4 codes, fp16 scales and zero points; INT8 rows and
/// scales with any static activation parameters; fp16 linears; the fp32 norms and biases after scale
/// folding and fp16 rounding), its <see cref="BlockReport"/> and its calibration statistics (the double
/// sums). Reading it back gives a block equal bit for bit, so a resumed run saves the same checkpoint.
/// </summary>
internal static class BlockState
{
    private const string Format = "awqruntime-block-state";

    public static void Write(string path, LlamaBlock block, BlockReport report, IReadOnlyDictionary<LinearKind, ChannelStats> stats)
    {
        var specs = new List<SafetensorsTensorSpec>();
        var writes = new List<Action<SafetensorsWriter>>();
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["report"] = JsonSerializer.Serialize(ReportJson.From(report)),
        };
        void Add<T>(string name, TensorDType type, T[] values) where T : unmanaged
        {
            specs.Add(new SafetensorsTensorSpec(name, type, [values.Length]));
            writes.Add(w => w.Write<T>(name, values));
        }
        Add("attn_norm", TensorDType.F32, block.AttnNorm);
        Add("ffn_norm", TensorDType.F32, block.FfnNorm);
        foreach (var kind in LinearKinds.All)
        {
            var n = kind.Name();
            if (block.Bias(kind) is { } bias) Add($"{n}.bias", TensorDType.F32, bias);
            switch (block[kind])
            {
                case IGroupQuantizedLinear q:
                    var w = q.ToWeights();
                    var kernel = q is Int4Linear i4 ? i4.Kernel : Int4Kernel.W4A16; // the field is read for 4-bit weights only
                    meta[n] = string.Create(CultureInfo.InvariantCulture, $"int4 {w.OutFeatures} {w.InFeatures} {w.GroupSize} {w.Bits} {kernel}");
                    Add($"{n}.q", TensorDType.U8, w.Q);
                    Add($"{n}.scales", TensorDType.F16, w.Scales);
                    Add($"{n}.zeros", TensorDType.U8, w.Zeros);
                    break;
                case Int8Linear i8:
                    meta[n] = i8.StaticInput is { } p
                        ? string.Create(CultureInfo.InvariantCulture, $"int8 {i8.OutFeatures} {i8.InFeatures} {BitConverter.SingleToInt32Bits(p.Scale)} {p.Zero}")
                        : string.Create(CultureInfo.InvariantCulture, $"int8 {i8.OutFeatures} {i8.InFeatures}");
                    Add($"{n}.qweight", TensorDType.I8, i8.QWeight.ToArray());
                    Add($"{n}.wscale", TensorDType.F32, i8.WeightScales.ToArray());
                    break;
                case HalfLinear h:
                    meta[n] = string.Create(CultureInfo.InvariantCulture, $"fp16 {h.OutFeatures} {h.InFeatures}");
                    Add($"{n}.weight", TensorDType.F16, h.Weight);
                    break;
                case var other:
                    throw new NotSupportedException($"a finished block holds a {other.GetType().Name} for {n}; only group-quantized, INT8 and fp16 linears are journalled");
            }
            if (stats.TryGetValue(kind, out var st))
            {
                meta[$"{n}.stats_count"] = st.Count.ToString(CultureInfo.InvariantCulture);
                Add($"{n}.sum_abs", TensorDType.F64, st.SumAbs.ToArray());
                Add($"{n}.sum_sq", TensorDType.F64, st.SumSq.ToArray());
            }
        }
        var temp = path + ".tmp";
        using (var writer = new SafetensorsWriter(temp, specs, meta))
        {
            foreach (var write in writes) write(writer);
            writer.Commit();
        }
        File.Move(temp, path, overwrite: true);
    }

    public static (LlamaBlock Block, BlockReport Report, Dictionary<LinearKind, ChannelStats> Stats) Read(string path, int layer, LlamaConfig c)
    {
        using var f = SafetensorsFile.Open(path);
        InvalidDataException Bad(string problem) => new($"{path}: work-folder block state: {problem}");
        if (f.Metadata.GetValueOrDefault("format") != Format) throw Bad($"not a block state (format '{f.Metadata.GetValueOrDefault("format")}')");
        T[] Read<T>(string name, long expected) where T : unmanaged
        {
            if (!f.TryGet(name, out var info)) throw Bad($"tensor '{name}' is missing");
            var bytes = f.Bytes(info);
            var size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            if (bytes.Length != expected * size) throw Bad($"tensor '{name}' has {bytes.Length} bytes, expected {expected * size}");
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
        }
        var linears = new ILinear[LinearKinds.All.Count];
        var biases = new Dictionary<LinearKind, float[]>();
        var stats = new Dictionary<LinearKind, ChannelStats>();
        foreach (var kind in LinearKinds.All)
        {
            var n = kind.Name();
            var shape = kind.Shape(c);
            int outF = (int)shape[0], inF = (int)shape[1];
            var fields = (f.Metadata.GetValueOrDefault(n) ?? throw Bad($"no entry for {n}")).Split(' ');
            int Field(int i) => int.Parse(fields[i], CultureInfo.InvariantCulture);
            if (fields.Length < 3 || Field(1) != outF || Field(2) != inF) throw Bad($"{n} is {string.Join(' ', fields)}, the model's is [{outF}, {inF}]");
            linears[(int)kind] = fields[0] switch
            {
                "int4" => Int4(fields, outF, inF),
                "int8" => Int8(fields, outF, inF),
                "fp16" => new HalfLinear(Read<ushort>($"{n}.weight", (long)outF * inF), outF, inF),
                var t => throw Bad($"{n} has unknown kind '{t}'"),
            };
            if (f.Contains($"{n}.bias")) biases[kind] = Read<float>($"{n}.bias", outF);
            if (f.Metadata.TryGetValue($"{n}.stats_count", out var count))
                stats[kind] = new ChannelStats(Read<double>($"{n}.sum_abs", inF), Read<double>($"{n}.sum_sq", inF), long.Parse(count, CultureInfo.InvariantCulture));

            ILinear Int4(string[] x, int o, int i)
            {
                var group = Field(3);
                var bits = Field(4);
                var groups = QuantGroups.Count(i, group);
                var w = new QuantizedWeights(o, i, group, bits, Read<byte>($"{n}.q", (long)o * i), Read<ushort>($"{n}.scales", (long)o * groups),
                    Read<byte>($"{n}.zeros", (long)o * groups));
                return GroupQuantizedLinear.Create(w, Enum.Parse<Int4Kernel>(x[5]));
            }

            ILinear Int8(string[] x, int o, int i)
            {
                var linear = Int8Linear.FromStored(Read<sbyte>($"{n}.qweight", (long)o * i), Read<float>($"{n}.wscale", o), o, i, $"{path}: {n}");
                return x.Length == 5 ? linear.WithStaticInput(new ActivationQuantParams(BitConverter.Int32BitsToSingle(Field(3)), Field(4))) : linear;
            }
        }
        var block = new LlamaBlock(Read<float>("attn_norm", c.HiddenSize), Read<float>("ffn_norm", c.HiddenSize),
            linears[0], linears[1], linears[2], linears[3], linears[4], linears[5], linears[6], biases);
        var report = JsonSerializer.Deserialize<ReportJson>(f.Metadata.GetValueOrDefault("report") ?? throw Bad("no report"))?.ToReport()
            ?? throw Bad("empty report");
        if (report.Layer != layer) throw Bad($"holds block {report.Layer}, expected {layer}");
        return (block, report, stats);
    }

    /// <summary><see cref="BlockReport"/> as JSON (System.Text.Json writes floats and doubles in round-trip form).</summary>
    private sealed record ReportJson(int Layer, List<ScaleJson> Scales, Dictionary<string, double> ClipErrors, List<string> SkippedGroups, long ElapsedTicks)
    {
        public static ReportJson From(BlockReport r) => new(r.Layer,
            r.Scales.Select(s => new ScaleJson(s.Group, s.PrevOp.Name, s.Linears, s.Scales, s.BestAlpha, s.BestLoss, s.UnscaledLoss, s.GridLosses)).ToList(),
            new Dictionary<string, double>(r.ClipErrors), r.SkippedGroups.ToList(), r.Elapsed.Ticks);

        public BlockReport ToReport() => new(Layer,
            Scales.Select(s => new ScaleSearchResult(s.Group, ParsePrevOp(s.PrevOp), s.Linears, s.Scales, s.BestAlpha, s.BestLoss, s.UnscaledLoss, s.GridLosses)).ToList(),
            ClipErrors, SkippedGroups, TimeSpan.FromTicks(ElapsedTicks));
    }

    private static PrevOp ParsePrevOp(string name) => name switch
    {
        "input_layernorm" => PrevOp.Of(BlockNorm.Attention),
        "post_attention_layernorm" => PrevOp.Of(BlockNorm.Ffn),
        _ => PrevOp.Of(LinearKinds.Parse(name)),
    };

    private sealed record ScaleJson(string Group, string PrevOp, LinearKind[] Linears, float[] Scales, double BestAlpha, double BestLoss, double UnscaledLoss,
        double[] GridLosses);
}
