using AwqRuntime.LlamaSharp;

namespace AwqRuntime.Tests.LlamaSharp;

[Collection(LlamaCppCollection.Name)]
public class LlamaCppModelTests(LlamaCppFixture fixture)
{
    private readonly LlamaCppModel _model = fixture.Model;

    [Fact]
    public void Loads_stories260K_and_reports_its_shape()
    {
        Assert.Equal(512, _model.VocabSize);
        Assert.Equal(64, _model.EmbeddingLength);
        Assert.Equal(5, _model.LayerCount);
        Assert.Equal(8, _model.HeadCount);
        Assert.Equal(4, _model.KvHeadCount);
        Assert.Equal(2048, _model.ContextLength);
        Assert.Equal(512, _model.ContextSize);
        Assert.Equal(512, _model.BatchSize);
        Assert.Equal(1, _model.BosToken);
        Assert.Equal(2, _model.EosToken);
        Assert.True(_model.AddsBos);
        Assert.Equal(new FileInfo(SharedData.Stories260KGguf).Length, _model.FileBytes);
        // dim 64, hidden 172, 5 layers, GQA 8/4 (kv dim 32), vocab 512, separate output.weight.
        const long perLayer = 64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 172 + 2 * 64;
        Assert.Equal(2 * 512 * 64 + 64 + 5 * perLayer, _model.ParameterCount);
        Assert.Equal(4 * _model.ParameterCount, _model.TensorBytes);
        Assert.Equal("llama", _model.Metadata["general.architecture"]);
        Assert.Equal("172", _model.Metadata["llama.feed_forward_length"]);
    }

    [Fact]
    public void Tokenizes_like_llama2c_encoder()
    {
        var reference = Stories260KReference.Load();
        Assert.Equal(reference.ZooPromptIds, _model.Tokenize(reference.ZooPrompt, addBos: true));
        Assert.Equal([410, 469, 347], _model.Tokenize(reference.ZooPrompt, addBos: false));
        // The greedy story starts with "Once upon a time": the same ids must come out of the tokenizer.
        Assert.Equal([1, .. reference.GreedyFromBos[..4]], _model.Tokenize("Once upon a time", addBos: true));

        // The perplexity reference encoded the first 2000 characters of the calibration text with
        // run.c's encoder and kept 512 ids; llama.cpp's SPM tokenizer must agree on all of them.
        var text = File.ReadAllText(SharedData.CalibText);
        var ids = _model.Tokenize(text[..2000], addBos: true);
        Assert.True(ids.Length >= reference.PerplexityTokenIds.Length);
        Assert.Equal(reference.PerplexityTokenIds, ids[..reference.PerplexityTokenIds.Length]);
    }

    [Fact]
    public void Special_tokens_are_parsed_only_when_asked()
    {
        Assert.Equal([1], _model.Tokenize("<s>", addBos: false, parseSpecial: true));
        Assert.DoesNotContain(1, _model.Tokenize("<s>", addBos: false, parseSpecial: false));
    }

    [Fact]
    public void Detokenizes_the_greedy_story_to_the_reference_text()
    {
        var reference = Stories260KReference.Load();
        Assert.Equal(reference.GreedyText, _model.Detokenize(reference.GreedyFromBos));
        Assert.Equal("", _model.Detokenize([]));
        Assert.Equal(" Once"u8.ToArray(), _model.TokenToPiece(reference.GreedyFromBos[0]));
        Assert.Equal([(byte)'\n'], _model.TokenToPiece(3 + '\n')); // byte-fallback token <0x0A>
        Assert.Empty(_model.TokenToPiece(1));
        Assert.Equal("<s>"u8.ToArray(), _model.TokenToPiece(1, renderSpecial: true));
        // llama_detokenize's own rules for BOS and the SentencePiece leading space.
        int[] story = [1, 403, 407, 261, 378, 2];
        Assert.Equal(" Once upon a time", _model.Detokenize(story));
        Assert.Equal(" Once upon a time", _model.Detokenize(story, removeSpecial: true));
        Assert.Equal("<s> Once upon a time</s>", _model.Detokenize(story, unparseSpecial: true));
        Assert.Equal("Once upon", _model.Detokenize([403, 407]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.TokenToPiece(512));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.Detokenize([5, -1]));
    }

    [Fact]
    public void Missing_file_is_one_clear_exception_naming_the_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"awq-missing-{Guid.NewGuid():N}.gguf");
        var ex = Assert.Throws<LlamaCppException>(() => LlamaCppModel.Load(path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains(path, ex.Message);
        Assert.Contains("does not exist", ex.Message);
    }

    [Fact]
    public void Non_gguf_file_is_rejected_before_llama_cpp_sees_it()
    {
        var path = Path.Combine(Path.GetTempPath(), $"awq-not-gguf-{Guid.NewGuid():N}.gguf");
        File.WriteAllText(path, "this is not a model");
        try
        {
            var ex = Assert.Throws<LlamaCppException>(() => LlamaCppModel.Load(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("not a GGUF", ex.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Truncated_gguf_is_refused_by_llama_cpp_with_its_reason()
    {
        // A valid header and metadata, but the tensor data cut off: only llama.cpp can tell.
        var path = Path.Combine(Path.GetTempPath(), $"awq-truncated-{Guid.NewGuid():N}.gguf");
        var bytes = File.ReadAllBytes(SharedData.Stories260KGguf);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var ex = Assert.Throws<LlamaCppException>(() => LlamaCppModel.Load(path, LlamaCppFixture.F32Options));
            Assert.Contains(path, ex.Message);
            Assert.NotEmpty(ex.NativeLog);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LlamaCppModel.Load(SharedData.Stories260KGguf, new LlamaCppOptions { ContextSize = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            LlamaCppModel.Load(SharedData.Stories260KGguf, new LlamaCppOptions { BatchSize = 64, UBatchSize = 128 }));
    }

    [Fact]
    public void Log_listener_receives_whole_lines_and_nothing_reaches_stderr_by_default()
    {
        var lines = new List<(LlamaCppLogLevel Level, string Text)>();
        LlamaCppLog.Listener = (level, text) => { lock (lines) lines.Add((level, text)); };
        try
        {
            using var model = LlamaCppModel.Load(SharedData.Stories260KGguf, LlamaCppFixture.F32Options with { ContextSize = 64 });
        }
        finally
        {
            LlamaCppLog.Listener = null;
        }
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.DoesNotContain('\n', l.Text));
        Assert.Contains(lines, l => l.Text.Contains("llama_model_loader"));
        // stories260K has separator/padding ids of 2^32-1, which llama.cpp warns about while loading.
        Assert.Contains(lines, l => l.Level == LlamaCppLogLevel.Warning && l.Text.Contains("padding_token_id"));
    }
}
