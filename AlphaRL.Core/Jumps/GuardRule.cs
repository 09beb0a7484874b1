namespace AlphaRl.Jumps;

/// <summary>
/// The guard's rule, for the hook and the command-line tool alike: among the jump candidates (those meeting any floors)
/// the best is the one with the highest mean score, the earliest (the shortest jump) among equal means; it is kept iff
/// it is no worse than W_e beyond the tolerance and noise (<see cref="NoWorse"/>). Otherwise W_e stays.
/// </summary>
public static class GuardRule
{
    /// <summary>after ≥ before − tolerance − z · √(se_before² + se_after²); a non-finite <paramref name="after"/> is never kept.</summary>
    /// <param name="before">W_e's mean score.</param>
    /// <param name="beforeError">Its standard error (0 when unknown).</param>
    /// <param name="after">The candidate's mean score.</param>
    /// <param name="afterError">Its standard error (0 when unknown).</param>
    /// <param name="tolerance">Score a jump may lose against W_e and still be kept (0: no worse at all).</param>
    /// <param name="z">Standard errors of the difference allowed for noise (0 ignores the errors).</param>
    public static bool NoWorse(double before, double beforeError, double after, double afterError, double tolerance, double z)
    {
        if (!double.IsFinite(after)) return false;
        double noise = z == 0 ? 0 : z * Math.Sqrt(beforeError * beforeError + afterError * afterError);
        return after >= before - tolerance - noise;
    }

    /// <summary>Whether a candidate scoring <paramref name="mean"/> replaces the best so far (<paramref name="best"/>, null
    /// when none): a finite, strictly higher mean, so that among equal means the earlier candidate stays.</summary>
    public static bool Beats(double mean, double? best) => double.IsFinite(mean) && (best is null || mean > best.Value);

    /// <summary>Why <paramref name="value"/> cannot be the guard's tolerance, or null.</summary>
    public static string? CheckTolerance(double value) =>
        double.IsFinite(value) && value >= 0 ? null : "must be a finite number, 0 or more (score a kept jump may lose against W_e)";

    /// <summary>Why <paramref name="value"/> cannot be the guard's noise z, or null.</summary>
    public static string? CheckNoiseZ(double value) =>
        double.IsFinite(value) && value >= 0 ? null : "must be a finite number, 0 or more (standard errors of the difference allowed for noise)";
}
