namespace AwqRuntime.Native;

/// <summary>Feature bits reported by awq_features() (awq_feature_bits in awq_kernels.h).</summary>
[Flags]
public enum NativeFeatures : uint
{
    None = 0,
    Avx2Compiled = 1 << 0,
    Avx2Detected = 1 << 1,
    Avx512Compiled = 1 << 2,
    Avx512Detected = 1 << 3,
    Avx512VnniDetected = 1 << 4,
    F16cDetected = 1 << 5,
    CudaBuilt = 1 << 6,
}
