using AwqRuntime.Numerics;

namespace AwqRuntime.Model;

/// <summary>
/// The token embedding table [vocab, hidden], held as fp32 (the reference runtime) or fp16 (quantized
/// models, which store it in fp16 as AutoAWQ does — half the memory of the largest tensor of a small
/// model). Rows are widened to fp32 as they are looked up.
/// </summary>
public sealed class TokenEmbedding
{
    public TokenEmbedding(float[] values, int vocabSize, int dim)
    {
        Check(values.Length, vocabSize, dim);
        Float32 = values;
        VocabSize = vocabSize;
        Dim = dim;
    }

    public TokenEmbedding(ushort[] fp16, int vocabSize, int dim)
    {
        Check(fp16.Length, vocabSize, dim);
        Float16 = fp16;
        VocabSize = vocabSize;
        Dim = dim;
    }

    public int VocabSize { get; }
    public int Dim { get; }

    /// <summary>The table when held in fp32 (else null). Mutable on purpose for in-place transforms.</summary>
    public float[]? Float32 { get; }

    /// <summary>The table as fp16 bits when held in fp16 (else null).</summary>
    public ushort[]? Float16 { get; }

    public long Bytes => Float32 != null ? Float32.LongLength * sizeof(float) : Float16!.LongLength * sizeof(ushort);

    public void CopyRow(int token, Span<float> destination)
    {
        if ((uint)token >= (uint)VocabSize) throw new ArgumentOutOfRangeException(nameof(token), $"token id {token} is outside the vocabulary of {VocabSize}");
        if (Float32 != null) Float32.AsSpan(token * Dim, Dim).CopyTo(destination);
        else Fp16.ToSingles(Float16.AsSpan(token * Dim, Dim), destination);
    }

    /// <summary>The whole table as fp32 (a copy when stored in fp16, the table itself otherwise).</summary>
    public float[] ToFloat32()
    {
        if (Float32 != null) return Float32;
        var f = new float[Float16!.Length];
        Native.Kernels.Fp16ToFp32(Float16, f);
        return f;
    }

    private static void Check(long length, int vocabSize, int dim)
    {
        if (length != (long)vocabSize * dim) throw new ArgumentException($"embedding has {length} values, expected {vocabSize}x{dim}");
    }
}
