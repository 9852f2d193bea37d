using AwqRuntime.Generation;
using AwqRuntime.Model;

namespace AwqRuntime.Quantization;

/// <summary>
/// Token sequences the quantizer runs through the model: <see cref="Samples"/> sequences of exactly
/// <see cref="SeqLen"/> tokens each (AutoAWQ's n_samples x seqlen blocks).
/// </summary>
public sealed class CalibrationSet
{
    /// <summary>No calibration data: what a method that reads no activations (RTN) is given.</summary>
    public static CalibrationSet None { get; } = new();

    private CalibrationSet()
    {
        Samples = [];
        Source = "none";
    }

    public CalibrationSet(int[][] samples, int seqLen, string source, int requestedSamples)
    {
        if (samples.Length == 0) throw new ArgumentException($"calibration data ({source}) gave no sequence of {seqLen} tokens");
        foreach (var s in samples)
            if (s.Length != seqLen) throw new ArgumentException("every calibration sample must have seqLen tokens");
        Samples = samples;
        SeqLen = seqLen;
        Source = source;
        RequestedSamples = requestedSamples;
    }

    public int[][] Samples { get; }
    public int SeqLen { get; }

    /// <summary>Where the tokens came from ("file tinystories_calib.txt", "self-generated").</summary>
    public string Source { get; }

    public int RequestedSamples { get; }

    /// <summary>
    /// Whether every sequence starts with BOS (sequences sampled from the model do; blocks cut from a
    /// text stream start wherever the cut falls). The BOS position's activations are an outlier (an
    /// attention sink) that a text block holds only where a document starts; the clip search leaves
    /// such leading rows out of its sample (<see cref="ClipSearch.SampleRows"/>).
    /// </summary>
    public bool LeadingBos { get; init; }
    public long TokenCount => (long)Samples.Length * SeqLen;
    public bool Shortened => Samples.Length < RequestedSamples;

    /// <summary>
    /// AutoAWQ's get_calib_dataset applied to a text file: the text is split into documents at blank
    /// lines, each encoded on its own (with BOS, as AutoAWQ's tokenizer.encode does), documents
    /// longer than seqLen are skipped (not truncated), the rest concatenated and cut into blocks of
    /// seqLen (the remainder dropped). We keep the first <paramref name="samples"/> blocks; a shorter
    /// text gives fewer, reported through <see cref="Shortened"/>.
    /// </summary>
    public static CalibrationSet FromText(string text, Func<string, int[]> encodeWithBos, int samples, int seqLen, string source)
    {
        Check(samples, seqLen);
        var needed = (long)samples * seqLen;
        var stream = new List<int>();
        var skipped = 0;
        foreach (var doc in SplitDocuments(text))
        {
            var ids = encodeWithBos(doc);
            if (ids.Length > seqLen)
            {
                skipped++;
                continue;
            }
            stream.AddRange(ids);
            if (stream.Count >= needed) break;
        }
        var blocks = Math.Min(stream.Count / seqLen, samples);
        if (blocks == 0)
            throw new ArgumentException(
                $"calibration data ({source}) gave no sequence of {seqLen} tokens: documents (split at blank lines) longer than {seqLen} tokens are skipped, as AutoAWQ does " +
                $"({skipped} skipped), and the {stream.Count} tokens of the rest do not fill one sequence (give more text, or a smaller --calib-seqlen)");
        var result = new int[blocks][];
        for (var b = 0; b < blocks; b++) result[b] = stream.GetRange(b * seqLen, seqLen).ToArray();
        return new CalibrationSet(result, seqLen, source, samples);
    }

    /// <summary>
    /// For users without data: sequences sampled from the full-precision model itself, starting at BOS,
    /// temperature 1 with no filtering, so the statistics follow the model's own distribution.
    /// <paramref name="sampled"/> is told how many sequences are done after each.
    /// </summary>
    public static CalibrationSet FromModel(LlamaModel model, int bosId, int samples, int seqLen, ulong seed, Action<int>? sampled = null)
    {
        Check(samples, seqLen);
        if (seqLen > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"calibration sequence length {seqLen} exceeds the model's context of {model.Config.MaxPositionEmbeddings}");
        var cache = model.CreateCache(seqLen);
        var buffers = model.CreateBuffers(1);
        var logits = new float[model.Config.VocabSize];
        var result = new int[samples][];
        for (var s = 0; s < samples; s++)
        {
            var sampler = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = seed + (ulong)s * 7919 });
            cache.Clear();
            var seq = new int[seqLen];
            seq[0] = bosId;
            for (var i = 1; i < seqLen; i++)
            {
                model.Forward(seq.AsSpan(i - 1, 1), cache, buffers, logits, LogitsMode.Last);
                seq[i] = sampler.Sample(logits, []);
            }
            result[s] = seq;
            sampled?.Invoke(s + 1);
        }
        return new CalibrationSet(result, seqLen, "self-generated (sampled from the FP model)", samples) { LeadingBos = true };
    }

    private static void Check(int samples, int seqLen)
    {
        if (samples <= 0) throw new ArgumentException($"calibration samples must be positive (got {samples})");
        if (seqLen < 2) throw new ArgumentException($"calibration sequence length must be at least 2 (got {seqLen})");
    }

    private static IEnumerable<string> SplitDocuments(string text)
    {
        foreach (var part in text.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var doc = part.Trim();
            if (doc.Length > 0) yield return doc;
        }
    }
}
