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
        var array = HugePages.Allocate<float>(length);

        Assert.That(array, Has.Length.GreaterThanOrEqualTo(length).And.Length.LessThanOrEqualTo(length + (2 << 20) / sizeof(float)));
        Assert.That(GC.GetGeneration(array), Is.EqualTo(GC.MaxGeneration), "pinned: the pinned object heap reports the oldest generation (an unpinned array of 1000 floats would be in generation 0)");
        for (int i = 0; i < length; i++) array[i] = i;
        for (int i = 0; i < length; i += 4099) Assert.That(array[i], Is.EqualTo((float)i));
    }
}
