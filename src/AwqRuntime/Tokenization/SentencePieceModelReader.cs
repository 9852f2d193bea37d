namespace AwqRuntime.Tokenization;

/// <summary>
/// SentencePiece's tokenizer.model (a protobuf ModelProto, sentencepiece_model.proto). Reads the
/// pieces (piece = 1, score = 2, type = 3), the trainer spec (model_type = 3, byte_fallback = 35,
/// unk/bos/eos/pad ids = 40..43) and the normalizer spec (add_dummy_prefix = 3), with proto2 defaults
/// for absent fields. Only BPE models are accepted: that is what Llama-family checkpoints ship and
/// what <see cref="SentencePieceBpeTokenizer"/> implements.
/// </summary>
public static class SentencePieceModelReader
{
    private const int MaxFileBytes = 1 << 30;
    private const int ModelTypeUnigram = 1, ModelTypeBpe = 2;

    public static TokenizerSpec Read(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        if (info.Length > MaxFileBytes) throw new InvalidDataException($"{path}: {info.Length} bytes is too large for a SentencePiece model");
        return Parse(File.ReadAllBytes(path), path);
    }

    public static TokenizerSpec Parse(ReadOnlySpan<byte> data, string source)
    {
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<TokenType>();
        int modelType = ModelTypeUnigram, unkId = 0, bosId = 1, eosId = 2, padId = -1;
        var addDummyPrefix = true;
        var sawTrainerSpec = false;

        var model = new ProtobufReader(data, source);
        if (model.AtEnd) throw model.Corrupt("file is empty");
        while (model.TryReadTag(out var field, out var wire))
        {
            switch (field)
            {
                case 1:
                    model.Expect(wire, ProtobufReader.LengthDelimited, "piece");
                    ReadPiece(model.ReadBytes($"piece {tokens.Count}"), source, tokens, scores, types);
                    break;
                case 2:
                    model.Expect(wire, ProtobufReader.LengthDelimited, "trainer_spec");
                    sawTrainerSpec = true;
                    var trainer = new ProtobufReader(model.ReadBytes("trainer_spec"), source);
                    while (trainer.TryReadTag(out var f, out var w))
                    {
                        switch (f)
                        {
                            case 3: trainer.Expect(w, ProtobufReader.Varint, "trainer_spec.model_type"); modelType = trainer.ReadInt32("model_type"); break;
                            case 40: trainer.Expect(w, ProtobufReader.Varint, "trainer_spec.unk_id"); unkId = trainer.ReadInt32("unk_id"); break;
                            case 41: trainer.Expect(w, ProtobufReader.Varint, "trainer_spec.bos_id"); bosId = trainer.ReadInt32("bos_id"); break;
                            case 42: trainer.Expect(w, ProtobufReader.Varint, "trainer_spec.eos_id"); eosId = trainer.ReadInt32("eos_id"); break;
                            case 43: trainer.Expect(w, ProtobufReader.Varint, "trainer_spec.pad_id"); padId = trainer.ReadInt32("pad_id"); break;
                            default: trainer.Skip(w, f); break;
                        }
                    }
                    break;
                case 3:
                    model.Expect(wire, ProtobufReader.LengthDelimited, "normalizer_spec");
                    var normalizer = new ProtobufReader(model.ReadBytes("normalizer_spec"), source);
                    while (normalizer.TryReadTag(out var f, out var w))
                    {
                        if (f == 3)
                        {
                            normalizer.Expect(w, ProtobufReader.Varint, "normalizer_spec.add_dummy_prefix");
                            addDummyPrefix = normalizer.ReadBool("add_dummy_prefix");
                        }
                        else normalizer.Skip(w, f);
                    }
                    break;
                default:
                    model.Skip(wire, field);
                    break;
            }
        }

        if (tokens.Count == 0) throw model.Corrupt("model has no pieces");
        if (!sawTrainerSpec) throw model.Corrupt("model has no trainer_spec (cannot tell its model type)");
        if (modelType != ModelTypeBpe)
        {
            var name = modelType switch { 1 => "UNIGRAM", 3 => "WORD", 4 => "CHAR", _ => modelType.ToString() };
            throw new NotSupportedException($"{source}: SentencePiece model type {name} is not supported (only BPE)");
        }

        var count = tokens.Count;
        int Id(int id, string what) => id >= -1 && id < count
            ? id
            : throw new InvalidDataException($"{source}: protobuf: trainer_spec.{what} {id} is outside the {count} pieces");

        var spec = new TokenizerSpec
        {
            Kind = TokenizerKind.SentencePieceBpe,
            Tokens = tokens.ToArray(),
            Scores = scores.ToArray(),
            Types = types.ToArray(),
            UnkId = Id(unkId, "unk_id"),
            BosId = Id(bosId, "bos_id"),
            EosId = Id(eosId, "eos_id"),
            PadId = Id(padId, "pad_id"),
            AddBos = true,
            AddEos = false,
            AddSpacePrefix = addDummyPrefix,
        };
        spec.Validate(source);
        return spec;
    }

    private static void ReadPiece(ReadOnlySpan<byte> message, string source, List<string> tokens, List<float> scores, List<TokenType> types)
    {
        var index = tokens.Count;
        string? piece = null;
        var score = 0f;
        var type = TokenType.Normal;
        var r = new ProtobufReader(message, source);
        while (r.TryReadTag(out var f, out var w))
        {
            switch (f)
            {
                case 1: r.Expect(w, ProtobufReader.LengthDelimited, $"piece {index} text"); piece = r.ReadString($"piece {index} text"); break;
                case 2: r.Expect(w, ProtobufReader.Fixed32, $"piece {index} score"); score = r.ReadFloat($"piece {index} score"); break;
                case 3:
                    r.Expect(w, ProtobufReader.Varint, $"piece {index} type");
                    var t = r.ReadInt32($"piece {index} type");
                    if (t is < 1 or > 6) throw r.Corrupt($"piece {index} has unknown type {t}");
                    type = (TokenType)t;
                    break;
                default: r.Skip(w, f); break;
            }
        }
        if (piece is null) throw r.Corrupt($"piece {index} has no text");
        if (!float.IsFinite(score)) throw r.Corrupt($"piece {index} has a non-finite score");
        tokens.Add(piece);
        scores.Add(score);
        types.Add(type);
    }
}
