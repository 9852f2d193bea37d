using System.Runtime.InteropServices;

namespace AwqRuntime.Native;

/// <summary>Status codes of the C ABI (awq_status in awq_kernels.h).</summary>
public enum NativeStatus
{
    Ok = 0,
    NullPointer = -1,
    InvalidSize = -2,
    InvalidGroupSize = -3,
    SizeMismatch = -4,
    InvalidBits = -5,
    InvalidArgument = -6,
    OutOfMemory = -7,
    Unsupported = -8,
    Overflow = -9,
    Device = -10,
}

/// <summary>A native kernel rejected its arguments or failed; the message names the function and the argument.</summary>
public sealed class NativeKernelException : Exception
{
    public NativeKernelException(string function, NativeStatus status, string detail)
        : base(string.IsNullOrEmpty(detail) ? $"{function}: {status}" : $"{detail} [{status}]")
    {
        Function = function;
        Status = status;
    }

    public string Function { get; }
    public NativeStatus Status { get; }
}

internal static partial class NativeMethods
{
    /// <summary>Throws <see cref="NativeKernelException"/> when a native call did not return AWQ_OK.</summary>
    internal static void Check(int status, string function)
    {
        if (status == 0) return;
        var detail = Marshal.PtrToStringUTF8(awq_last_error()) ?? "";
        throw new NativeKernelException(function, (NativeStatus)status, detail);
    }
}
