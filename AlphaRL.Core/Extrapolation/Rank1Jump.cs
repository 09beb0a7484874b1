using System.Numerics.Tensors;

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
}
