using AwqRuntime.Comparison;
using AwqRuntime.Evaluation;
using AwqRuntime.Tests.Formats;

namespace AwqRuntime.Tests.Compare;

/// <summary>The reference logits on disk: exact floats per window, windows of different lengths, errors for misuse, deleted when done.</summary>
public sealed class ReferenceLogitsFileTests : IDisposable
{
    private readonly TempDir _dir = new("reference-logits");

    public void Dispose() => _dir.Dispose();

    private static EvalWindow Window(int length, int firstScored) => new(Enumerable.Range(0, length).ToArray(), firstScored);

    private static float[] Values(int n, int seed)
    {
        var random = new Random(seed);
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = BitConverter.Int32BitsToSingle(random.Next()); // any bit pattern of a positive float, NaN payloads included
        v[0] = float.NegativeInfinity;
        v[^1] = -0f;
        return v;
    }

    [Fact]
    public void Windows_read_back_bit_for_bit_in_any_order_and_the_file_goes_on_dispose()
    {
        const int vocab = 7;
        EvalWindow[] windows = [Window(16, 8), Window(9, 0), Window(16, 8), Window(4, 2)];
        var file = new ReferenceLogitsFile(_dir.File("work"), windows, vocab);
        var written = windows.Select((w, i) => Values(w.ScoredCount * vocab, i)).ToArray();
        Assert.Equal(written.Sum(v => (long)v.Length) * sizeof(float), file.Bytes);
        for (var w = windows.Length - 1; w >= 0; w--) file.Write(w, written[w]);
        Assert.Equal(file.Bytes, new FileInfo(file.Path).Length);

        foreach (var w in new[] { 3, 0, 2, 1, 0 })
        {
            var back = new float[written[w].Length + 5];
            file.Read(w, back);
            Assert.Equal(written[w].Select(BitConverter.SingleToInt32Bits), back.Take(written[w].Length).Select(BitConverter.SingleToInt32Bits));
            Assert.All(back.Skip(written[w].Length), x => Assert.Equal(0, x));
        }

        var path = file.Path;
        file.Dispose();
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Misuse_is_an_error_not_a_wrong_window()
    {
        using var file = new ReferenceLogitsFile(_dir.File("work"), [Window(8, 4), Window(8, 4)], 3);
        Assert.Throws<InvalidOperationException>(() => file.Read(1, new float[9])); // not written yet
        Assert.Throws<ArgumentException>(() => file.Write(0, new float[8]));       // 3 rows × 3 = 9
        var writer = new ReferenceLogitsWriter(new ConstantSource(3), file, [Window(8, 4), Window(8, 4)]);
        Assert.Throws<InvalidOperationException>(() => writer.Evaluate([9, 9, 9, 9, 9, 9, 9, 9], new float[24]));
        writer.Evaluate(Enumerable.Range(0, 8).ToArray(), new float[24]);
        Assert.Equal(1, writer.Written);
    }

    [Fact]
    public void A_file_the_disk_cannot_hold_fails_before_anything_runs_and_says_how_large_it_would_be()
    {
        // 2^20 scored positions × 2^30 logits × 4 bytes: 4 PiB.
        var huge = new EvalWindow(new int[(1 << 20) + 1], 0);
        var e = Assert.Throws<IOException>(() => new ReferenceLogitsFile(_dir.File("work"), [huge], 1 << 30));
        Assert.Contains("need 4194304.00 GiB on disk", e.Message);
        Assert.Contains("1,048,576 scored positions", e.Message);
        Assert.False(File.Exists(Path.Combine(_dir.File("work"), ReferenceLogitsFile.FileName)));
    }

    private sealed class ConstantSource(int vocab) : ILogitsSource
    {
        public string Name => "constant";
        public int VocabSize => vocab;
        public void Evaluate(ReadOnlySpan<int> tokens, Span<float> logits) => logits[..(tokens.Length * vocab)].Fill(1);
    }
}
