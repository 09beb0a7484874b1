using System.Globalization;
using AlphaRl.Extrapolation;
using AlphaRl.Jumps;

namespace AlphaRl.Cli;

/// <summary>
/// The fit gate of <c>predict</c> (and so of <c>watch</c>): a rank-1 prediction is written only when the line fits the
/// window. The measure and the default are the hook's: the pooled held-out relative error of every matrix's line
/// (<see cref="FitQuality.Combine"/>, which the session compares with <c>Attempts.FitThreshold</c> before it tries a jump)
/// against <see cref="JumpDefaults.FitThreshold"/>, so that the offline tools write what the hook would try. A refusal
/// names the matrices that carry most of the pooled residual and, when one checkpoint's update norm jumps by orders of
/// magnitude against its neighbours (a diverged step, a corrupted weight), that checkpoint as the likely cause.
/// Velocity and direction jumps have no held-out fit and pass no gate; every method's output is range-checked
/// (<see cref="OutputRange"/>).
/// </summary>
internal static class FitGate
{
    /// <summary>How many times its neighbour's rate of update a checkpoint's must reach to be named as the likely cause:
    /// two orders of magnitude, far beyond the drift of a training run, where a corrupted weight or a diverged step gives
    /// ten or more.</summary>
    public const double NormJumpFactor = 100;

    /// <summary>How many matrices a refusal names.</summary>
    public const int MatricesNamed = 3;

    /// <summary>Applies the gate to a prediction: throws when <paramref name="matrices"/> fail it, unless
    /// <see cref="PredictOptions.Force"/>; then returns the refusal, for a warning. Null when they pass.</summary>
    /// <exception cref="AlphaRLException">The fit fails the gate and <see cref="PredictOptions.Force"/> is not set.</exception>
    public static string? Enforce(IReadOnlyList<MatrixTrajectory> matrices, PredictOptions options, long baseStep)
    {
        if (Refusal(matrices, options.FitThreshold, baseStep, options.Series.Checkpoints) is not { } refusal) return null;
        if (!options.Force) throw new AlphaRLException($"{refusal} Nothing was written; pass --force to write the prediction anyway.");
        return refusal;
    }

    /// <summary>Why the fits of <paramref name="matrices"/> do not pass the gate, or null when they do.</summary>
    /// <param name="matrices">The fitted matrices (those without a fit are ignored).</param>
    /// <param name="threshold">Largest pooled held-out relative error that passes.</param>
    /// <param name="baseStep">The base's step, from which the update norms ‖W_t − W0‖ are measured.</param>
    /// <param name="checkpoints">The window's checkpoint folders, to name the likely cause.</param>
    public static string? Refusal(IReadOnlyList<MatrixTrajectory> matrices, double threshold, long baseStep, IReadOnlyList<StepFolder> checkpoints)
    {
        var fits = matrices.Where(m => m.Fit is not null).ToList();
        if (fits.Count == 0) return null;
        var pooled = FitQuality.Combine(fits.Select(m => m.Fit!.HoldOut));
        double error = pooled.RelativeError;
        // As the hook: a fit passes when its error is at most the threshold; NaN never passes.
        if (error <= threshold) return null;

        // The pooled error is √(Σ residual² / Σ measured²): the matrices with the largest residuals are the ones that break it.
        double residual = pooled.ResidualSquared;
        var worst = fits.OrderByDescending(m => double.IsNaN(m.Fit!.HoldOut.ResidualSquared) ? double.PositiveInfinity : m.Fit!.HoldOut.ResidualSquared)
            .Take(MatricesNamed)
            .Select(m => $"{m.Name} (relative error {F(m.Fit!.HoldOut.RelativeError)}" +
                (residual > 0 && double.IsFinite(residual) ? $", {Share(m.Fit!.HoldOut.ResidualSquared / residual)} of the pooled residual)" : ")"));
        string text = $"The rank-1 line does not fit the window: pooled held-out relative error {F(error)} > {F(threshold)} (the fit threshold, as the hook's " +
            $"Attempts.FitThreshold), so the prediction would not be trusted. Worst matrices: {string.Join("; ", worst)}.";
        text += LikelyCause(fits, baseStep, checkpoints) is { } cause
            ? $" Likely cause: {cause}"
            : " No checkpoint's update norm jumps against its neighbours: the path bends or is noisy over this window; try more checkpoints or a later window.";
        return text;
    }

    /// <summary>The checkpoint whose update norm per step since the base, ‖W_t − W0‖ / (t − base) over all matrices, is at
    /// least <see cref="NormJumpFactor"/> times its previous neighbour's (for the first checkpoint: its next one's), the
    /// largest such jump; null when none is. Normalizing by the steps since the base keeps a steadily growing update
    /// (‖W_t − W0‖ ∝ t − base) level, however unevenly the checkpoints are spaced.</summary>
    internal static string? LikelyCause(IReadOnlyList<MatrixTrajectory> matrices, long baseStep, IReadOnlyList<StepFolder> checkpoints)
    {
        var squares = new SortedDictionary<long, double>();
        foreach (var s in matrices.SelectMany(m => m.Snapshots))
            squares[s.Step] = squares.GetValueOrDefault(s.Step) + (double)s.UpdateNorm * s.UpdateNorm;
        var steps = squares.Keys.Where(t => t > baseStep).ToList();
        var rates = steps.Select(t => Math.Sqrt(squares[t]) / (t - baseStep)).ToList();
        int cause = -1;
        double largest = 0;
        for (int i = 0; i < steps.Count && steps.Count > 1; i++)
        {
            double neighbour = rates[i == 0 ? 1 : i - 1];
            double ratio = neighbour > 0 ? rates[i] / neighbour : rates[i] > 0 ? double.PositiveInfinity : double.NaN;
            if (ratio >= NormJumpFactor && (cause < 0 || ratio > largest)) (cause, largest) = (i, ratio);
        }
        if (cause < 0) return null;
        long step = steps[cause];
        long other = steps[cause == 0 ? 1 : cause - 1];
        string folder = checkpoints.FirstOrDefault(c => c.Step == step)?.Directory ?? "(folder unknown)";
        return $"the checkpoint at step {step} ({folder}): its update ‖W_t − W0‖ is {F(Math.Sqrt(squares[step]))}, " +
            $"{F(largest)} times that of step {other} per step since the base. A diverged step or a corrupted weight leaves such a jump; " +
            "leave that checkpoint out of the window.";
    }

    private static string Share(double x) => x < 0.001 ? "< 0.1%" : x.ToString("0.#%", CultureInfo.InvariantCulture);

    private static string F(double x) => x.ToString("G3", CultureInfo.InvariantCulture);
}
