using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace AlphaRl.Checkpoints;

/// <summary>
/// Asks the operating system to start reading a file range into its page cache and returns at once
/// (<c>posix_fadvise(POSIX_FADV_WILLNEED)</c> on Linux, looked up in libc at first use; nothing elsewhere, or when
/// libc lacks it), so that a later read of the range does not wait for the disk. A hint only: it never fails.
/// </summary>
/// <remarks>Hand-written because .NET exposes the sequential and random-access hints (<see cref="FileOptions"/>) but
/// not this one, which is what lets a reader keep the disk busy while it computes.</remarks>
internal static unsafe class OsReadAhead
{
    private const int WillNeed = 3; // POSIX_FADV_WILLNEED on Linux

    private static readonly delegate* unmanaged<int, long, long, int, int> Advise = Find();

    private static delegate* unmanaged<int, long, long, int, int> Find()
    {
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc)) return null;
        return NativeLibrary.TryGetExport(libc, "posix_fadvise", out var f) ? (delegate* unmanaged<int, long, long, int, int>)f : null;
    }

    /// <summary>Whether the hint is available on this system.</summary>
    public static bool IsAvailable => Advise != null;

    /// <summary>Starts reading [offset, offset + length) of the open file into the page cache.</summary>
    public static void Request(SafeFileHandle file, long offset, long length)
    {
        if (Advise == null || length <= 0 || file.IsClosed) return;
        bool added = false;
        try
        {
            file.DangerousAddRef(ref added);
            _ = Advise((int)file.DangerousGetHandle(), offset, length, WillNeed);
        }
        finally
        {
            if (added) file.DangerousRelease();
        }
    }
}
