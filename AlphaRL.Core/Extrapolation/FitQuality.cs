namespace AlphaRl.Extrapolation;

/// <summary>
/// Out-of-sample quality of a trajectory fit: the fit is made on the earlier snapshots of the window and asked
/// to predict the later ones; the predicted rank-1 updates x̂ vᵀ are compared with the measured x_t v_tᵀ.
/// Kept as sums so that qualities of many matrices combine into one (<see cref="Combine"/>).
/// </summary>
/// <param name="Inner">Sum of Frobenius inner products ⟨predicted, measured⟩.</param>
/// <param name="PredictedSquared">Sum of squared Frobenius norms of the predictions.</param>
/// <param name="MeasuredSquared">Sum of squared Frobenius norms of the measured rank-1 updates.</param>
/// <param name="ResidualSquared">Sum of squared Frobenius norms of the differences, accumulated directly (not as
/// P + M − 2I, which loses the small errors of a good fit to cancellation).</param>
/// <param name="HeldOut">Number of held-out snapshots compared.</param>
public sealed record FitQuality(double Inner, double PredictedSquared, double MeasuredSquared, double ResidualSquared, int HeldOut)
{
    /// <summary>Cosine between predicted and measured rank-1 updates (1 is perfect).</summary>
    public double Cosine => PredictedSquared > 0 && MeasuredSquared > 0 ? Inner / Math.Sqrt(PredictedSquared * MeasuredSquared) : 0;

    /// <summary>Relative error ‖predicted − measured‖_F / ‖measured‖_F (0 is perfect).</summary>
    public double RelativeError => MeasuredSquared > 0 ? Math.Sqrt(ResidualSquared / MeasuredSquared) : double.PositiveInfinity;

    /// <summary>Pools the qualities of several matrices, weighting each by the size of its update.</summary>
    public static FitQuality Combine(IEnumerable<FitQuality> qualities)
    {
        double inner = 0, predicted = 0, measured = 0, residual = 0;
        int heldOut = 0;
        foreach (var q in qualities)
        {
            inner += q.Inner;
            predicted += q.PredictedSquared;
            measured += q.MeasuredSquared;
            residual += q.ResidualSquared;
            heldOut = Math.Max(heldOut, q.HeldOut);
        }
        return new FitQuality(inner, predicted, measured, residual, heldOut);
    }
}
