using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using AlphaRl.Checkpoints;

namespace AlphaRl.Extrapolation;

/// <summary>How the predicted rank-1 component is turned into new weights.</summary>
public enum JumpForm
{
    /// <summary>Default: W_pred = W_e + (x̂ − x_e) v_eᵀ: adds only the increment of the rank-1 component, keeping W_e's residual.</summary>
    Increment,

    /// <summary>The released script's form, for comparison: W_pred = W_e + x̂ v_eᵀ (counts the rank-1 part twice).</summary>
    AddToLast,

    /// <summary>An older release's form, for comparison: W_pred = W0 + x̂ v_eᵀ (drops W_e's residual).</summary>
    AddToBase,
}

/// <summary>Builds the jump of one matrix as a rank-1 correction c vᵀ to a reference matrix (W_e, or W0 for <see cref="JumpForm.AddToBase"/>).</summary>
public static class Rank1Jump
{
    /// <summary>Whether the form starts from W0 instead of the last window weights W_e.</summary>
    public static bool StartsFromBase(JumpForm form) => form == JumpForm.AddToBase;

    /// <summary>The row coefficients c such that W_pred = reference + c v_eᵀ.</summary>
    public static float[] Coefficients(TrajectoryFit fit, ReadOnlySpan<float> predictedX, JumpForm form)
    {
        ArgumentNullException.ThrowIfNull(fit);
        if (predictedX.Length != fit.LastX.Length)
            throw new ArgumentException($"Prediction for '{fit.Matrix}' has length {predictedX.Length}; the matrix has {fit.LastX.Length} rows.", nameof(predictedX));
        var c = predictedX.ToArray();
        if (form == JumpForm.Increment) TensorPrimitives.Subtract(c, fit.LastX, c);
        return c;
    }

    /// <summary>Adds c vᵀ to a row-major matrix in place.</summary>
    public static void Apply(Span<float> weights, int rows, int cols, ReadOnlySpan<float> coefficients, ReadOnlySpan<float> v)
    {
        if (weights.Length != (long)rows * cols || coefficients.Length != rows || v.Length != cols)
            throw new ArgumentException($"Jump shapes disagree: weights {weights.Length} values for {rows}×{cols}, coefficients {coefficients.Length}, v {v.Length}.");
        for (int i = 0; i < rows; i++)
        {
            var row = weights.Slice(i * cols, cols);
            TensorPrimitives.MultiplyAdd(v, coefficients[i], row, row);
        }
    }
    /// <summary>
    /// The jump of a bfloat16 matrix without a float32 copy of it: <c>output = bf16(reference + c vᵀ)</c>, row by row,
    /// each weight widened, moved and rounded to nearest even as it goes; bit for bit what decoding the reference,
    /// <see cref="Apply"/> and encoding give. Returns false, with <paramref name="output"/> partly written, when a
    /// result is NaN or infinite in bfloat16 (the jump overflows).
    /// </summary>
    /// <param name="reference">The reference weights (W_e or W0) as bfloat16 bit patterns, row-major.</param>
    /// <param name="output">Receives the predicted weights' bit patterns; may be <paramref name="reference"/> itself.</param>
    /// <param name="rows">Rows of the matrix.</param>
    /// <param name="cols">Columns of the matrix.</param>
    /// <param name="coefficients">c, one per row.</param>
    /// <param name="v">v_e, one per column.</param>
    public static bool ApplyBFloat16(ReadOnlySpan<ushort> reference, Span<ushort> output, int rows, int cols, ReadOnlySpan<float> coefficients, ReadOnlySpan<float> v)
    {
        if (reference.Length != (long)rows * cols || output.Length != reference.Length || coefficients.Length != rows || v.Length != cols)
            throw new ArgumentException($"Jump shapes disagree: reference {reference.Length} and output {output.Length} values for {rows}×{cols}, coefficients {coefficients.Length}, v {v.Length}.");
        // Large matrices: two row blocks on two thread-pool workers, as the top-triplet kernel does.
        if ((long)rows * cols < 1 << 19 || rows < 2 || Environment.ProcessorCount < 2)
            return ApplyBFloat16Rows(reference, output, 0, rows, cols, coefficients, v);
        bool first = true, second = true;
        int half = rows / 2, n = reference.Length;
        unsafe
        {
            fixed (ushort* pr = reference, po = output)
            fixed (float* pc = coefficients, pv = v)
            {
                // Spans cannot be captured by the workers: each rebuilds them from the pinned addresses.
                nint r = (nint)pr, o = (nint)po, c = (nint)pc, w = (nint)pv;
                bool Rows(int start, int end) => ApplyBFloat16Rows(new ReadOnlySpan<ushort>((ushort*)r, n), new Span<ushort>((ushort*)o, n),
                    start, end, cols, new ReadOnlySpan<float>((float*)c, rows), new ReadOnlySpan<float>((float*)w, cols));
                Parallel.Invoke(() => first = Rows(0, half), () => second = Rows(half, rows));
            }
        }
        return first && second;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool ApplyBFloat16Rows(ReadOnlySpan<ushort> reference, Span<ushort> output, int start, int end, int cols, ReadOnlySpan<float> coefficients, ReadOnlySpan<float> v)
    {
        const ushort exponent = 0x7F80;
        int width = Vector<ushort>.Count, half = Vector<float>.Count;
        int body = Vector.IsHardwareAccelerated ? cols - cols % width : 0;
        var mask = new Vector<ushort>(exponent);
        var overflow = Vector<ushort>.Zero;
        bool finite = true;
        for (int i = start; i < end; i++)
        {
            var c = new Vector<float>(coefficients[i]);
            var source = reference.Slice(i * cols, cols);
            var target = output.Slice(i * cols, cols);
            for (int j = 0; j < body; j += width)
            {
                Vector.Widen(new Vector<ushort>(source[j..]), out var low, out var high);
                // TensorPrimitives.MultiplyAdd rounds the product and then the sum; so does this.
                var a = new Vector<float>(v[j..]) * c + Vector.AsVectorSingle(Vector.ShiftLeft(low, 16));
                var b = new Vector<float>(v[(j + half)..]) * c + Vector.AsVectorSingle(Vector.ShiftLeft(high, 16));
                var words = Vector.Narrow(FloatCodec.RoundToBFloat16(Vector.AsVectorUInt32(a)), FloatCodec.RoundToBFloat16(Vector.AsVectorUInt32(b)));
                overflow |= Vector.Equals(words & mask, mask);
                words.CopyTo(target[j..]);
            }
            for (int j = body; j < cols; j++)
            {
                float x = v[j] * coefficients[i] + BitConverter.UInt32BitsToSingle((uint)source[j] << 16);
                ushort word = FloatCodec.ToBFloat16(BitConverter.SingleToUInt32Bits(x));
                finite &= (word & exponent) != exponent;
                target[j] = word;
            }
        }
        return finite && overflow == Vector<ushort>.Zero;
    }
}
