using System.Numerics.Tensors;
using System.Runtime.InteropServices;

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
                var bits = MemoryMarshal.Cast<byte, ushort>(source);
                var wide = MemoryMarshal.Cast<float, uint>(destination);
                for (int i = 0; i < bits.Length; i++) wide[i] = (uint)bits[i] << 16;
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
                var words = MemoryMarshal.Cast<byte, ushort>(destination);
                var bits = MemoryMarshal.Cast<float, uint>(source);
                for (int i = 0; i < bits.Length; i++) words[i] = ToBFloat16(bits[i]);
                break;
            default:
                throw new ArgumentException($"Tensors of dtype {dtype} cannot be written from floats.", nameof(dtype));
        }
    }

    /// <summary>Rounds an IEEE single (as bits) to bfloat16, to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort ToBFloat16(uint bits)
    {
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) return (ushort)((bits >> 16) | 0x0040);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
