using AwqRuntime.Tokenization;

namespace AwqRuntime.Tests.Tokenization;

/// <summary>llama.cpp's vocabulary test vectors and the shared vocabularies, loaded once per test run.</summary>
internal static class TokenizerTestData
{
    public const string Separator = "\n__ggml_vocab_test__\n";

    public static string VectorsPath(string name) => Path.Combine(SharedData.TokenizerVectors, name);

    /// <summary>The test strings and the expected ids of one vocabulary (test-tokenizer-0 format).</summary>
    public static (string Text, int[] Ids)[] Vectors(string ggufName)
    {
        var inputs = File.ReadAllText(VectorsPath(ggufName + ".inp")).Split(Separator);
        var outputs = File.ReadAllText(VectorsPath(ggufName + ".out")).Split('\n');
        // Each input is followed by the separator, so the split leaves one empty trailing element;
        // the .out file ends with a newline, likewise.
        Assert.Equal("", inputs[^1]);
        Assert.Equal("", outputs[^1]);
        Assert.Equal(inputs.Length, outputs.Length);
        var n = inputs.Length - 1;
        var result = new (string, int[])[n];
        for (var i = 0; i < n; i++)
        {
            var ids = outputs[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            result[i] = (inputs[i], ids);
        }
        return result;
    }

    private static readonly Lazy<ITokenizer> LlamaSpmLazy = new(() => Tokenizer.FromSpec(GgufTokenizerReader.Read(VectorsPath("ggml-vocab-llama-spm.gguf"))));
    private static readonly Lazy<ITokenizer> DeepSeekLazy = new(() => Tokenizer.FromSpec(GgufTokenizerReader.Read(VectorsPath("ggml-vocab-deepseek-llm.gguf"))));
    private static readonly Lazy<ITokenizer> Llama2ModelLazy = new(() => Tokenizer.FromSpec(SentencePieceModelReader.Read(Path.Combine(SharedData.Llama2TokenizerDir, "tokenizer.model"))));
    private static readonly Lazy<ITokenizer> Llama2BinLazy = new(() => Tokenizer.FromSpec(Llama2cTokenizerReader.Read(Path.Combine(SharedData.Llama2TokenizerDir, "tokenizer.bin"))));
    private static readonly Lazy<ITokenizer> Tok512Lazy = new(() => Tokenizer.FromSpec(Llama2cTokenizerReader.Read(SharedData.Tok512, 512)));
    private static readonly Lazy<ITokenizer> Stories260KGgufLazy = new(() => Tokenizer.FromSpec(GgufTokenizerReader.Read(SharedData.Stories260KGguf)));
    private static readonly Lazy<string> EvalTextLazy = new(() => File.ReadAllText(SharedData.EvalText));

    public static ITokenizer LlamaSpm => LlamaSpmLazy.Value;
    public static ITokenizer DeepSeek => DeepSeekLazy.Value;
    public static ITokenizer Llama2Model => Llama2ModelLazy.Value;
    public static ITokenizer Llama2Bin => Llama2BinLazy.Value;
    public static ITokenizer Tok512 => Tok512Lazy.Value;
    public static ITokenizer Stories260KGguf => Stories260KGgufLazy.Value;
    public static string EvalText => EvalTextLazy.Value;
}
