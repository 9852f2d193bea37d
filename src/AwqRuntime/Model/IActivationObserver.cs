namespace AwqRuntime.Model;

/// <summary>
/// Sees the input of the linears of each block during a forward pass — how calibration collects
/// its statistics without a second copy of the model code. Called for the four distinct inputs of
/// a LLaMA-family block: q_proj's (also k_proj's and v_proj's input), o_proj's, gate_proj's (also
/// up_proj's) and down_proj's.
/// </summary>
public interface IActivationObserver
{
    void OnLinearInput(int layer, LinearKind kind, ReadOnlySpan<float> x, int rows, int cols);
}
