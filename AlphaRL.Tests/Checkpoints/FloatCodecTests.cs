using System.Runtime.InteropServices;
using AlphaRl.Checkpoints;

namespace AlphaRl.Tests.Checkpoints;

/// <summary>The vectorized BF16 codec agrees bit for bit with the scalar rule on every kind of value.</summary>
public class FloatCodecTests
{
    [Test]
    public void Bf16EncodeAndDecode_MatchTheScalarRule_OnRandomBitsNaNsInfinitiesAndTies()
    {
        var random = new Random(3);
        var bits = new uint[100_003]; // not a multiple of any vector width: the scalar tail runs too
        for (int i = 0; i < bits.Length; i++)
            bits[i] = (i % 7) switch
            {
                0 => 0x7F80_0000u | (uint)random.Next(0, 0x80_0000), // infinities and NaNs
                1 => ((uint)random.Next() << 16) | 0x8000u,           // exact ties
                2 => 0x7F7F_FFFFu ^ (uint)random.Next(0, 2) << 31,     // largest finite: rounds to infinity
                _ => (uint)random.NextInt64(0, 1L << 32),
            };
        var floats = MemoryMarshal.Cast<uint, float>(bits);
        var encoded = new byte[bits.Length * 2];

        FloatCodec.Encode(floats, SafetensorsDType.BF16, encoded);
        var words = MemoryMarshal.Cast<byte, ushort>(encoded);
        for (int i = 0; i < bits.Length; i++)
            Assert.That(words[i], Is.EqualTo(FloatCodec.ToBFloat16(bits[i])), $"element {i}, bits {bits[i]:X8}");

        var decoded = new float[bits.Length];
        FloatCodec.Decode(encoded, SafetensorsDType.BF16, decoded);
        var back = MemoryMarshal.Cast<float, uint>(decoded);
        for (int i = 0; i < bits.Length; i++)
            Assert.That(back[i], Is.EqualTo((uint)words[i] << 16), $"element {i}");
    }
}
