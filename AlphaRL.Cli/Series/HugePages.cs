using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace AlphaRl.Cli;

/// <summary>
/// Buffers for whole tensors that a short run touches once: pinned arrays whose interior is marked for transparent huge
/// pages on Linux (<c>madvise(MADV_HUGEPAGE)</c>), so that the first touch of a 16 MB buffer costs a few page faults of
/// 2 MiB instead of 4096 of 4 KiB. Elsewhere, or where the kernel declines, they are plain pinned arrays.
/// </summary>
internal static partial class HugePages
{
    private const int HugePage = 2 << 20;
    private const int MadvHugePage = 14;

    /// <summary>
    /// Uninitialized pinned memory for <paramref name="length"/> elements. From 1 MiB on, on Linux, it starts at a
    /// 2 MiB boundary (the array behind it is one huge page longer) and is marked for huge pages, so that whole huge
    /// pages cover every element; the hint is best effort.
    /// </summary>
    public static unsafe Memory<T> Allocate<T>(int length) where T : unmanaged
    {
        long bytes = (long)length * sizeof(T);
        if (!OperatingSystem.IsLinux() || bytes < HugePage / 2 || bytes + HugePage > Array.MaxLength)
            return GC.AllocateUninitializedArray<T>(length, pinned: true);
        var array = GC.AllocateUninitializedArray<T>(length + HugePage / sizeof(T), pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        nint first = (start + HugePage - 1) & ~(nint)(HugePage - 1);
        try
        {
            _ = Madvise(first, (nuint)((bytes + HugePage - 1) & ~(long)(HugePage - 1)), MadvHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without madvise: plain pinned memory.
        }
        // The pinned object heap never moves the array, so the offset stays a 2 MiB boundary (a multiple of sizeof(T)).
        return new Memory<T>(array, (int)((first - start) / sizeof(T)), length);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
