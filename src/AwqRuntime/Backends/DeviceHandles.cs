using System.Runtime.InteropServices;
using AwqRuntime.Native;

namespace AwqRuntime.Backends;

/// <summary>An awq_context (awq_kernels.h, "Devices"): one device and, on CUDA, one stream.</summary>
internal sealed unsafe class ContextHandle : SafeHandle
{
    private ContextHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    public static ContextHandle Create(DeviceKind kind, int ordinal)
    {
        IntPtr p;
        NativeMethods.Check(NativeMethods.awq_context_create((int)kind, ordinal, &p), "awq_context_create");
        var h = new ContextHandle();
        h.SetHandle(p);
        return h;
    }

    // Runs once every buffer made from it has been released (each holds a reference), so the C rule
    // "free the buffers, then the context" holds whatever order the owners are disposed or collected in.
    protected override bool ReleaseHandle() => NativeMethods.awq_context_free(handle) == 0;
}

/// <summary>An awq_buffer of a context; keeps its context alive until it is freed.</summary>
internal sealed unsafe class BufferHandle : SafeHandle
{
    private ContextHandle? _context;

    private BufferHandle() : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>A zero-filled buffer of <paramref name="bytes"/>; out of device memory is an <see cref="InsufficientMemoryException"/>.</summary>
    public static BufferHandle Create(ContextHandle context, long bytes)
    {
        var added = false;
        context.DangerousAddRef(ref added);
        IntPtr p;
        var status = NativeMethods.awq_buffer_create(context.DangerousGetHandle(), bytes, &p);
        if (status != 0)
        {
            context.DangerousRelease();
            try
            {
                NativeMethods.Check(status, "awq_buffer_create");
            }
            catch (NativeKernelException e) when (e.Status == NativeStatus.OutOfMemory)
            {
                throw new InsufficientMemoryException(e.Message, e);
            }
        }
        var h = new BufferHandle { _context = context };
        h.SetHandle(p);
        return h;
    }

    protected override bool ReleaseHandle()
    {
        var ok = NativeMethods.awq_buffer_free(handle) == 0;
        _context?.DangerousRelease();
        return ok;
    }
}
