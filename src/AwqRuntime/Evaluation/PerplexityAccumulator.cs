namespace AwqRuntime.Evaluation;

/// <summary>Running negative log-likelihood of observed next tokens; perplexity = exp(mean NLL).</summary>
public sealed class PerplexityAccumulator
{
    private double _sum;
    private double _sumSq;

    public long Count { get; private set; }
    public double MeanNll => Count == 0 ? double.NaN : _sum / Count;
    public double Perplexity => Math.Exp(MeanNll);

    /// <summary>Standard error of the mean NLL (llama.cpp prints PPL ± from it).</summary>
    public double MeanNllStdError => Count < 2 ? double.NaN : Math.Sqrt(Math.Max(0, (_sumSq / Count - MeanNll * MeanNll) / (Count - 1)));

    /// <summary>Adds −log p(target) under the logits row; returns that NLL.</summary>
    public double Add(ReadOnlySpan<float> logits, int target)
    {
        if ((uint)target >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(target), $"token {target} outside a vocabulary of {logits.Length}");
        var nll = LogSoftmax.LogSumExp(logits) - logits[target];
        AddNll(nll);
        return nll;
    }

    public void AddNll(double nll)
    {
        _sum += nll;
        _sumSq += nll * nll;
        Count++;
    }
}
