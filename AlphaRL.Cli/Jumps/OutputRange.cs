using System.Numerics.Tensors;
using AlphaRl.Checkpoints;

namespace AlphaRl.Cli;

/// <summary>
/// The last check before predicted weights are encoded: every value must be finite and stay finite once rounded to
/// the dtype it is stored in (F32: finite; F16: at most ±65504 after rounding; BF16: not rounded up to infinity). A
/// value that would not is an error naming the tensor and the target step, thrown before the tensor's bytes reach the
/// stream, so that the staged output is dropped and nothing is written.
/// </summary>
internal static class OutputRange
{
    /// <summary>Throws unless every value of <paramref name="values"/> can be stored as <paramref name="dtype"/>.</summary>
    /// <param name="values">Predicted weights, a whole tensor or a slice of one.</param>
    /// <param name="dtype">The dtype the values are written as.</param>
    /// <param name="tensor">The tensor's name, for the message.</param>
    /// <param name="targetStep">The step predicted, for the message.</param>
    /// <param name="firstElement">Index in the tensor of <paramref name="values"/>[0] (for a slice).</param>
    /// <exception cref="AlphaRLException">A value is NaN, infinite or beyond the dtype's range.</exception>
    public static void Ensure(ReadOnlySpan<float> values, SafetensorsDType dtype, string tensor, long targetStep, long firstElement = 0)
    {
        // Rounding is monotonic, so the largest magnitude decides (and MaxMagnitude is NaN when any value is NaN).
        if (values.IsEmpty || Fits(TensorPrimitives.MaxMagnitude(values), dtype)) return;
        int i = 0;
        while (Fits(values[i], dtype)) i++;
        throw new AlphaRLException($"The prediction for step {targetStep} of tensor '{tensor}' holds {values[i]} at element {firstElement + i}, " +
            $"which {Describe(dtype)}; the jump is too long or the fit is broken: choose a nearer --target-step or check the window. Nothing was written.");
    }

    /// <summary>Whether <paramref name="value"/> stays finite once rounded to <paramref name="dtype"/>.</summary>
    public static bool Fits(float value, SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F16 => Half.IsFinite((Half)value),
        SafetensorsDType.BF16 => float.IsFinite(value) && (FloatCodec.ToBFloat16(BitConverter.SingleToUInt32Bits(value)) & 0x7F80) != 0x7F80,
        _ => float.IsFinite(value),
    };

    private static string Describe(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F16 => "F16 cannot hold (its largest finite value is ±65504)",
        SafetensorsDType.BF16 => "BF16 cannot hold (it rounds to infinity beyond about ±3.39e38)",
        _ => $"{dtype} cannot hold (weights must be finite, within ±3.4e38)",
    };
}
