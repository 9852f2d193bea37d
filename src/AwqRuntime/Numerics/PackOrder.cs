namespace AwqRuntime.Numerics;

/// <summary>Nibble order inside a packed INT4 word (awq_pack_order in awq_kernels.h; same values).</summary>
public enum PackOrder
{
    /// <summary>Nibble i holds column 8c + [0,2,4,6,1,3,5,7][i] (AutoAWQ's AWQ_ORDER).</summary>
    Awq = 0,

    /// <summary>Nibble i holds column 8c + i.</summary>
    Plain = 1,
}
