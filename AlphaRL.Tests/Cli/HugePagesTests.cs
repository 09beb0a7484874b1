using AlphaRl.Cli;

namespace AlphaRl.Tests.Cli;

/// <summary>The tool's whole-tensor buffers: at least as long as asked, pinned, and writable end to end.</summary>
public class HugePagesTests
{
    [TestCase(0)]
    [TestCase(1000)]
    [TestCase(1 << 18)] // 1 MiB of floats: marked for huge pages on Linux
    [TestCase(3 << 20)]
    public void Allocate_GivesAPinnedArrayOfAtLeastTheLengthAsked_WhoseEveryElementHoldsWhatIsWritten(int length)
    {
        var memory = HugePages.Allocate<float>(length);

        Assert.That(memory.Length, Is.EqualTo(length));
        Assert.That(System.Runtime.InteropServices.MemoryMarshal.TryGetArray<float>(memory, out var segment), Is.True);
        Assert.That(GC.GetGeneration(segment.Array!), Is.EqualTo(GC.MaxGeneration), "pinned: the pinned object heap reports the oldest generation (an unpinned array of 1000 floats would be in generation 0)");
        if (OperatingSystem.IsLinux() && length >= (1 << 18))
            Assert.That((long)System.Runtime.InteropServices.Marshal.UnsafeAddrOfPinnedArrayElement(segment.Array!, segment.Offset) % (2 << 20), Is.Zero,
                "starts at a huge-page boundary");
        var span = memory.Span;
        for (int i = 0; i < length; i++) span[i] = i;
        for (int i = 0; i < length; i += 4099) Assert.That(span[i], Is.EqualTo((float)i));
    }
}
