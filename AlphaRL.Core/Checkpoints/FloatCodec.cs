using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;

namespace AlphaRl.Checkpoints;

/// <summary>Conversions between stored F32/F16/BF16 bytes (little-endian) and floats.</summary>
internal static class FloatCodec
{
    /// <summary>Decodes <paramref name="source"/> (elements of <paramref name="dtype"/>) into floats.</summary>
    public static void Decode(ReadOnlySpan<byte> source, SafetensorsDType dtype, Span<float> destination)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(source).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination);
                break;
            case SafetensorsDType.BF16:
                DecodeBFloat16(MemoryMarshal.Cast<byte, ushort>(source), MemoryMarshal.Cast<float, uint>(destination));
                break;
            default:
                throw new ArgumentException($"Tensors of dtype {dtype} cannot be read as floats.", nameof(dtype));
        }
    }

    /// <summary>Encodes floats into <paramref name="destination"/> as <paramref name="dtype"/>, rounding to nearest even.</summary>
    public static void Encode(ReadOnlySpan<float> source, SafetensorsDType dtype, Span<byte> destination)
    {
        switch (dtype)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.AsBytes(source).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination));
                break;
            case SafetensorsDType.BF16:
                EncodeBFloat16(MemoryMarshal.Cast<float, uint>(source), MemoryMarshal.Cast<byte, ushort>(destination));
                break;
            default:
                throw new ArgumentException($"Tensors of dtype {dtype} cannot be written from floats.", nameof(dtype));
        }
    }

    // BF16 is the upper half of an F32: widen and shift (decode), round to nearest even and narrow (encode), a vector at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DecodeBFloat16(ReadOnlySpan<ushort> bits, Span<uint> wide)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= bits.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                Vector.Widen(new Vector<ushort>(bits[i..]), out var low, out var high);
                Vector.ShiftLeft(low, 16).CopyTo(wide[i..]);
                Vector.ShiftLeft(high, 16).CopyTo(wide[(i + Vector<uint>.Count)..]);
            }
        for (; i < bits.Length; i++) wide[i] = (uint)bits[i] << 16;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EncodeBFloat16(ReadOnlySpan<uint> bits, Span<ushort> words)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
            for (; i <= bits.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
            {
                var low = RoundToBFloat16(new Vector<uint>(bits[i..]));
                var high = RoundToBFloat16(new Vector<uint>(bits[(i + Vector<uint>.Count)..]));
                Vector.Narrow(low, high).CopyTo(words[i..]);
            }
        for (; i < bits.Length; i++) words[i] = ToBFloat16(bits[i]);
    }

    /// <summary><see cref="ToBFloat16"/> on a vector of IEEE singles (as bits); the bfloat16 is the low half of each
    /// lane, ready for <see cref="Vector.Narrow(Vector{uint}, Vector{uint})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<uint> RoundToBFloat16(Vector<uint> x)
    {
        var rounded = Vector.ShiftRightLogical(x + new Vector<uint>(0x7FFF) + (Vector.ShiftRightLogical(x, 16) & Vector<uint>.One), 16);
        var nan = Vector.ShiftRightLogical(x, 16) | new Vector<uint>(0x0040);
        return Vector.ConditionalSelect(Vector.GreaterThan(x & new Vector<uint>(0x7FFF_FFFF), new Vector<uint>(0x7F80_0000)), nan, rounded);
    }

    /// <summary>Rounds an IEEE single (as bits) to bfloat16, to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort ToBFloat16(uint bits)
    {
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((bits >> 16) | 0x0040);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
