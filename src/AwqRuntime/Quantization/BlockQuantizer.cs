using System.Diagnostics;
using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// Quantizes one decoder block in AutoAWQ's order (reference §1.1): [1] run the full-precision
/// block over the calibration activations, caching every linear's input and producing the next
/// block's input; [2] search the four groups' scales on those cached inputs and fold them in;
/// [3] search and apply weight clipping; [4] round every linear to group-wise INT4.
/// The block's FloatLinear weights are modified in place (scales, clipping); quantized weights are
/// returned, not yet swapped in, so the caller decides what runs next.
/// </summary>
internal sealed class BlockQuantizer(LlamaConfig config, AwqConfig awq, CalibrationSet calib)
{
    // Allocated once per run and reused by every block (same shapes each time).
    private readonly ActivationCapture _capture = new(config, calib.Samples.Length, calib.SeqLen);
    private readonly ForwardBuffers _buffers = new(config, calib.SeqLen);
    private readonly float[] _kc = new float[(long)calib.SeqLen * config.KvDim];
    private readonly float[] _vc = new float[(long)calib.SeqLen * config.KvDim];
    private readonly SearchWorkspace _work = new(config, calib.TokenCount);

    /// <summary>Activation statistics of each linear's input in the last block processed (for the imatrix).</summary>
    public Dictionary<string, ChannelStats> Stats { get; } = new();

    /// <summary>
    /// Runs steps 1–3 on <paramref name="block"/>; <paramref name="x"/> ([tokens, hidden]) is the block's
    /// input and is overwritten with the full-precision block's output. With <paramref name="searched"/>
    /// (this block's report from an earlier run with the same calibration and group size) step 2 folds
    /// those scales instead of searching: the search is deterministic, so the result is the same.
    /// </summary>
    public BlockReport SearchAndApply(int layer, LlamaBlock block, float[] x, Action<string, int, int>? step = null,
        BlockReport? searched = null)
    {
        var clock = Stopwatch.StartNew();
        var seq = calib.SeqLen;
        var samples = calib.Samples.Length;
        var (capture, buffers, kc, vc) = (_capture, _buffers, _kc, _vc);

        step?.Invoke("forward", 0, 6);
        for (var s = 0; s < samples; s++)
        {
            capture.Sample = s;
            LlamaForward.Block(config, block, x.AsSpan(s * seq * config.HiddenSize, seq * config.HiddenSize), seq, 0, kc, vc, seq,
                buffers, capture, layer);
        }
        CollectStats(capture, samples * seq);

        var results = new List<ScaleSearchResult>();
        var skipped = new List<string>();
        var clipErrors = new Dictionary<string, double>();
        if (awq.Method == QuantMethod.Awq)
        {
            if (searched != null)
            {
                results.AddRange(searched.Scales);
                skipped.AddRange(searched.SkippedGroups);
            }
            else
            {
                var groups = Groups(block, capture, buffers, kc, vc, skipped);
                for (var i = 0; i < groups.Count; i++)
                {
                    step?.Invoke($"search {groups[i].Name}", 1 + i, 6);
                    var linears = groups[i].Linears.Select(k => (FloatLinear)block[k]).ToArray();
                    results.Add(ScaleSearch.Run(groups[i], linears, awq, _work));
                }
            }
            // AutoAWQ searches all groups on the original weights and inputs, then applies them.
            foreach (var r in results)
            {
                ScaleFolding.Apply(block, r);
                ScaleFolding.DivideColumns(capture.InputOf(r.Linears[0]), r.Scales);
            }
            if (awq.ApplyClip)
            {
                step?.Invoke("clip", 5, 6);
                foreach (var kind in LlamaTensorNames.LinearKinds)
                {
                    if (!ClipSearch.Applies(kind) || awq.ModulesToNotConvert.Contains(kind)) continue;
                    clipErrors[kind] = ClipSearch.Run(kind, (FloatLinear)block[kind], capture.InputOf(kind), awq, _work);
                }
            }
        }
        return new BlockReport(layer, results, clipErrors, skipped, clock.Elapsed);
    }

    /// <summary>Step 4: every linear (except modules_to_not_convert) as group-wise integers.</summary>
    public Dictionary<string, Int4Weights> Quantize(LlamaBlock block)
    {
        var result = new Dictionary<string, Int4Weights>();
        foreach (var kind in LlamaTensorNames.LinearKinds)
        {
            if (awq.ModulesToNotConvert.Contains(kind)) continue;
            var l = (FloatLinear)block[kind];
            result[kind] = GroupQuantizer.Quantize(l.Weight, l.OutFeatures, l.InFeatures, awq.GroupSize, awq.WBit);
        }
        return result;
    }

    private void CollectStats(ActivationCapture capture, int tokens)
    {
        Stats.Clear();
        // q/k/v (and gate/up) share one input: compute its statistics once.
        var byInput = new Dictionary<float[], ChannelStats>(ReferenceEqualityComparer.Instance);
        foreach (var kind in LlamaTensorNames.LinearKinds)
        {
            var input = capture.InputOf(kind);
            if (!byInput.TryGetValue(input, out var st))
            {
                st = new ChannelStats(input.Length / tokens);
                st.Add(input, tokens);
                byInput[input] = st;
            }
            Stats[kind] = st;
        }
    }

    /// <summary>The four LLaMA groups of §1.4, with the v→o group skipped when shapes differ (GQA).</summary>
    private List<ScalingGroup> Groups(LlamaBlock block, ActivationCapture cap, ForwardBuffers buffers, float[] kc, float[] vc,
        List<string> skipped)
    {
        var c = config;
        var seq = calib.SeqLen;
        var samples = calib.Samples.Length;
        var tokens = samples * seq;
        var list = new List<ScalingGroup>
        {
            new()
            {
                Name = "input_layernorm→q,k,v", PrevOp = "input_layernorm", Linears = ["q_proj", "k_proj", "v_proj"],
                Input = cap.AttnInput,
                Inspect = (l, output) =>
                {
                    for (var s = 0; s < samples; s++)
                        LlamaForward.Attention(c, l[0], l[1], l[2], block.O, cap.AttnInput.AsSpan(s * seq * c.HiddenSize, seq * c.HiddenSize),
                            seq, 0, kc, vc, seq, buffers, output.AsSpan(s * seq * c.HiddenSize, seq * c.HiddenSize));
                },
            },
        };
        if (block.V.OutFeatures == block.O.OutFeatures && block.V.InFeatures == block.O.InFeatures)
            list.Add(new()
            {
                Name = "v_proj→o_proj", PrevOp = "v_proj", Linears = ["o_proj"], Input = cap.OInput,
                Inspect = (l, output) => l[0].Forward(cap.OInput, tokens, output),
            });
        else
            skipped.Add("v_proj→o_proj (v_proj and o_proj shapes differ: grouped-query attention)");
        list.Add(new()
        {
            Name = "post_attention_layernorm→gate,up", PrevOp = "post_attention_layernorm", Linears = ["gate_proj", "up_proj"],
            Input = cap.MlpInput,
            Inspect = (l, output) =>
            {
                for (var s = 0; s < samples; s++)
                    LlamaForward.Mlp(c, l[0], l[1], block.Down, cap.MlpInput.AsSpan(s * seq * c.HiddenSize, seq * c.HiddenSize), seq,
                        buffers, output.AsSpan(s * seq * c.HiddenSize, seq * c.HiddenSize));
            },
        });
        list.Add(new()
        {
            Name = "up_proj→down_proj", PrevOp = "up_proj", Linears = ["down_proj"], Input = cap.DownInput,
            Inspect = (l, output) => l[0].Forward(cap.DownInput, tokens, output),
        });
        return list;
    }
}
