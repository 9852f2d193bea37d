namespace AwqRuntime.Model;

/// <summary>
/// Sees the input of the linears of each block during a forward pass — how calibration collects
/// its statistics without a second copy of the model code. Called for the four distinct inputs of
/// a LLaMA block: "q_proj" (also k_proj's and v_proj's input), "o_proj", "gate_proj" (also up_proj's)
/// and "down_proj".
/// </summary>
public interface IActivationObserver
{
    void OnLinearInput(int layer, string kind, ReadOnlySpan<float> x, int rows, int cols);
}
