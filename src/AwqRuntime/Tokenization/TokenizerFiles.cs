namespace AwqRuntime.Tokenization;

/// <summary>Reads a vocabulary from whichever file a checkpoint carries, picking the reader by name.</summary>
public static class TokenizerFiles
{
    /// <summary>
    /// <list type="bullet">
    /// <item>a folder: tokenizer.json (+ tokenizer_config.json, generation_config.json), else tokenizer.model</item>
    /// <item>a GGUF file (by its magic, whatever the extension): the embedded vocabulary</item>
    /// <item>*.json: a Hugging Face tokenizer.json (with its sibling config files)</item>
    /// <item>*.model: a SentencePiece model</item>
    /// <item>*.bin: a llama2.c tokenizer (<paramref name="expectedVocabSize"/> checks its token count)</item>
    /// </list>
    /// </summary>
    public static TokenizerSpec Read(string path, int? expectedVocabSize = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            var json = Path.Combine(path, HfTokenizerReader.TokenizerJson);
            if (File.Exists(json)) return HfTokenizerReader.Read(path, expectedVocabSize);
            var model = Path.Combine(path, "tokenizer.model");
            if (File.Exists(model)) return SentencePieceModelReader.Read(model);
            throw new FileNotFoundException($"{path}: no tokenizer.json or tokenizer.model in this folder");
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        // By content first, as the model loader detects a GGUF: a .gguf renamed to .bin is still a GGUF.
        if (Formats.CheckpointLoader.Detect(path) == Formats.CheckpointFormat.Gguf) return GgufTokenizerReader.Read(path);
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".gguf" => GgufTokenizerReader.Read(path),
            ".json" => HfTokenizerReader.Read(path, expectedVocabSize),
            ".model" => SentencePieceModelReader.Read(path),
            ".bin" => Llama2cTokenizerReader.Read(path, expectedVocabSize),
            var ext => throw new NotSupportedException($"{path}: unknown tokenizer file type '{ext}' (.gguf, .json, .model, .bin)"),
        };
    }
}
