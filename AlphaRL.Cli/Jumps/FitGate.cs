using System.Globalization;
using AlphaRl.Extrapolation;
using AlphaRl.Jumps;

namespace AlphaRl.Cli;

/// <summary>One matrix's held-out fit, as the gate pools it (the sums of its <see cref="FitQuality"/>).</summary>
internal sealed record MatrixHoldOut(string Name, double Inner, double PredictedSquared, double MeasuredSquared, double ResidualSquared, int HeldOut)
{
    public FitQuality ToQuality() => new(Inner, PredictedSquared, MeasuredSquared, ResidualSquared, HeldOut);
}

/// <summary>One checkpoint of the window: its folder and Σ‖W_t − W0‖² over the matrices judged.</summary>
internal sealed record StepUpdate(long Step, string? Folder, double UpdateNormSquared);

/// <summary>
/// What the fit gate judges: each matrix's held-out fit, and each checkpoint's update norm. Computed by <c>predict</c>; the
/// parts of a sharded <c>predict</c> each carry theirs to <c>merge</c>, which pools them (<see cref="Pool"/>), so that a
/// sharded prediction is judged on the same figure as one process.
/// </summary>
internal sealed record GateEvidence(long BaseStep, IReadOnlyList<MatrixHoldOut> Matrices, IReadOnlyList<StepUpdate> Steps)
{
    /// <summary>The evidence of the fitted matrices among <paramref name="matrices"/>.</summary>
    /// <param name="matrices">The matrices processed.</param>
    /// <param name="baseStep">The base's step.</param>
    /// <param name="checkpoints">The window's checkpoint folders, to name a likely cause.</param>
    public static GateEvidence Of(IEnumerable<MatrixTrajectory> matrices, long baseStep, IReadOnlyList<StepFolder> checkpoints)
    {
        var fitted = matrices.Where(m => m.Fit is not null).ToList();
        var squares = new SortedDictionary<long, double>();
        foreach (var s in fitted.SelectMany(m => m.Snapshots))
            squares[s.Step] = squares.GetValueOrDefault(s.Step) + (double)s.UpdateNorm * s.UpdateNorm;
        return new GateEvidence(baseStep,
            fitted.Select(m =>
            {
                var q = m.Fit!.HoldOut;
                return new MatrixHoldOut(m.Name, q.Inner, q.PredictedSquared, q.MeasuredSquared, q.ResidualSquared, q.HeldOut);
            }).ToList(),
            squares.Select(p => new StepUpdate(p.Key, checkpoints.FirstOrDefault(c => c.Step == p.Key)?.Directory, p.Value)).ToList());
    }

    /// <summary>The evidence of all parts together: every part's matrices, and the update norms summed step by step.</summary>
    public static GateEvidence Pool(IReadOnlyList<GateEvidence> parts) => new(parts[0].BaseStep,
        parts.SelectMany(p => p.Matrices).ToList(),
        parts.SelectMany(p => p.Steps).GroupBy(s => s.Step).OrderBy(g => g.Key)
            .Select(g => new StepUpdate(g.Key, g.Select(s => s.Folder).FirstOrDefault(f => f is not null), g.Sum(s => s.UpdateNormSquared))).ToList());
}

/// <summary>
/// The fit gate of <c>predict</c> (and so of <c>watch</c>) and <c>merge</c>: a rank-1 prediction is written only when the
/// line fits the window. The measure and the default are the hook's: the pooled held-out relative error of every matrix's
/// line (<see cref="FitQuality.Combine"/>, which the session compares with <c>Attempts.FitThreshold</c> before it tries a
/// jump) against <see cref="JumpDefaults.FitThreshold"/>, so that the offline tools write what the hook would try. A
/// refusal names the matrices that carry most of the pooled residual and, when one checkpoint's update norm jumps by
/// orders of magnitude against its neighbours (a diverged step, a corrupted weight), that checkpoint as the likely cause.
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

    /// <summary>Applies the gate: throws when <paramref name="evidence"/> fails it, unless <paramref name="force"/>; then
    /// returns the refusal, for a warning. Null when it passes.</summary>
    /// <param name="evidence">The fits judged.</param>
    /// <param name="threshold">Largest pooled held-out relative error that passes.</param>
    /// <param name="force">Whether a refusal is only a warning.</param>
    /// <param name="overrideHint">How the user writes the prediction anyway, for the message (e.g. "pass --force ...").</param>
    /// <exception cref="AlphaRLException">The fit fails the gate and <paramref name="force"/> is false.</exception>
    public static string? Enforce(GateEvidence evidence, double threshold, bool force, string overrideHint)
    {
        if (Refusal(evidence, threshold) is not { } refusal) return null;
        if (!force) throw new AlphaRLException($"{refusal} Nothing was written; {overrideHint}.");
        return refusal;
    }

    /// <summary>The warning printed when <c>--force</c> wrote a prediction the gate refused.</summary>
    public static string ForcedWarning(string refusal) => $"warning: --force: written although the fit gate refused it. {refusal}";

    /// <summary>Why <paramref name="evidence"/> does not pass the gate, or null when it does (or holds no fit).</summary>
    /// <param name="evidence">The fits judged.</param>
    /// <param name="threshold">Largest pooled held-out relative error that passes.</param>
    public static string? Refusal(GateEvidence evidence, double threshold)
    {
        var fits = evidence.Matrices;
        if (fits.Count == 0) return null;
        var pooled = FitQuality.Combine(fits.Select(m => m.ToQuality()));
        double error = pooled.RelativeError;
        // As the hook: a fit passes when its error is at most the threshold; NaN never passes.
        if (error <= threshold) return null;

        // The pooled error is √(Σ residual² / Σ measured²): the matrices with the largest residuals are the ones that break it.
        double residual = pooled.ResidualSquared;
        var worst = fits.OrderByDescending(m => double.IsNaN(m.ResidualSquared) ? double.PositiveInfinity : m.ResidualSquared)
            .Take(MatricesNamed)
            .Select(m => $"{m.Name} (relative error {F(m.ToQuality().RelativeError)}" +
                (residual > 0 && double.IsFinite(residual) ? $", {Share(m.ResidualSquared / residual)} of the pooled residual)" : ")"));
        string text = $"The rank-1 line does not fit the window: pooled held-out relative error {F(error)} > {F(threshold)} (the fit threshold, as the hook's " +
            $"Attempts.FitThreshold), so the prediction would not be trusted. Worst matrices: {string.Join("; ", worst)}.";
        text += LikelyCause(evidence) is { } cause
            ? $" Likely cause: {cause}"
            : " No checkpoint's update norm jumps against its neighbours: the path bends or is noisy over this window; try more checkpoints or a later window.";
        return text;
    }

    /// <summary>The checkpoint whose update norm per step since the base, ‖W_t − W0‖ / (t − base) over the matrices, is at
    /// least <see cref="NormJumpFactor"/> times its previous neighbour's (for the first checkpoint: its next one's), the
    /// largest such jump; null when none is. Normalizing by the steps since the base keeps a steadily growing update
    /// (‖W_t − W0‖ ∝ t − base) level, however unevenly the checkpoints are spaced.</summary>
    internal static string? LikelyCause(GateEvidence evidence)
    {
        var steps = evidence.Steps.Where(s => s.Step > evidence.BaseStep).OrderBy(s => s.Step).ToList();
        var rates = steps.Select(s => Math.Sqrt(s.UpdateNormSquared) / (s.Step - evidence.BaseStep)).ToList();
        int cause = -1;
        double largest = 0;
        for (int i = 0; i < steps.Count && steps.Count > 1; i++)
        {
            double neighbour = rates[i == 0 ? 1 : i - 1];
            double ratio = neighbour > 0 ? rates[i] / neighbour : rates[i] > 0 ? double.PositiveInfinity : double.NaN;
            if (ratio >= NormJumpFactor && (cause < 0 || ratio > largest)) (cause, largest) = (i, ratio);
        }
        if (cause < 0) return null;
        var step = steps[cause];
        long other = steps[cause == 0 ? 1 : cause - 1].Step;
        return $"the checkpoint at step {step.Step} ({step.Folder ?? "folder unknown"}): its update ‖W_t − W0‖ is {F(Math.Sqrt(step.UpdateNormSquared))}, " +
            $"{F(largest)} times that of step {other} per step since the base. A diverged step or a corrupted weight leaves such a jump; " +
            "leave that checkpoint out of the window.";
    }

    private static string Share(double x) => x < 0.001 ? "< 0.1%" : x.ToString("0.#%", CultureInfo.InvariantCulture);

    private static string F(double x) => x.ToString("G3", CultureInfo.InvariantCulture);
}
