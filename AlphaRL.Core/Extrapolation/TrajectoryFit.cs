namespace AlphaRl.Extrapolation;

/// <summary>
/// A straight-line fit of one matrix's rank-1 trajectory, x ≈ Intercept + Slope · c, where the covariate c is the
/// training step (default) or a measured metric (the PLS option), together with what the jump needs from the
/// window's last snapshot e and how well the line predicted held-out snapshots.
/// </summary>
/// <param name="Matrix">Name of the matrix.</param>
/// <param name="Intercept">a in x ≈ a + b·c (length m).</param>
/// <param name="Slope">b in x ≈ a + b·c (length m).</param>
/// <param name="LastX">x_e = s1 u1 of the last snapshot in the window.</param>
/// <param name="LastV">v_e, the right singular vector of the last snapshot, along which the jump is applied.</param>
/// <param name="LastStep">Step of the last snapshot e.</param>
/// <param name="Points">Snapshots used by the fit.</param>
/// <param name="HoldOut">Out-of-sample quality: the figure that decides whether to trust the fit.</param>
/// <param name="InSampleR2">In-sample R² of the fit on all points. Reported only: with few points in high dimension
/// it is near 1 even for noise, so it never decides anything.</param>
public sealed record TrajectoryFit(
    string Matrix,
    float[] Intercept,
    float[] Slope,
    float[] LastX,
    float[] LastV,
    long LastStep,
    int Points,
    FitQuality HoldOut,
    double InSampleR2)
{
    /// <summary>x̂ = a + b·c at a covariate value c.</summary>
    public float[] PredictAt(double covariate)
    {
        var x = new float[Intercept.Length];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(Intercept[i] + (double)Slope[i] * covariate);
        return x;
    }
}
