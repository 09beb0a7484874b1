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
    /// An uninitialized pinned array of at least <paramref name="length"/> elements. From 1 MiB on, it is one huge page
    /// longer than asked, so that whole aligned huge pages cover every byte asked for; the hint is best effort.
    /// </summary>
    public static unsafe T[] Allocate<T>(int length) where T : unmanaged
    {
        long bytes = (long)length * sizeof(T);
        if (!OperatingSystem.IsLinux() || bytes < HugePage / 2 || bytes + HugePage > Array.MaxLength)
            return GC.AllocateUninitializedArray<T>(length, pinned: true);
        var array = GC.AllocateUninitializedArray<T>(length + HugePage / sizeof(T), pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        nint first = (start + HugePage - 1) & ~(nint)(HugePage - 1), end = (start + (nint)(bytes + HugePage)) & ~(nint)(HugePage - 1);
        try
        {
            _ = Madvise(first, (nuint)(end - first), MadvHugePage);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A C library without madvise: the array is a plain pinned array.
        }
        return array;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
