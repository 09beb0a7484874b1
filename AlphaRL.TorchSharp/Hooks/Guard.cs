namespace AlphaRl.TorchSharp;

/// <summary>Which weights the guard's evaluation is asked to score.</summary>
public enum GuardPhase
{
    /// <summary>W_e, the window's last weights, before any candidate is written (j = 0).</summary>
    Before,

    /// <summary>A candidate: W_e jumped by <see cref="GuardContext.Method"/> over <see cref="GuardContext.Length"/> window lengths.</summary>
    After,
}

/// <summary>What the guard's evaluation is scoring: the policy's live weights at this moment of a jump attempt.</summary>
/// <param name="Step">Optimizer steps trained (as passed to Step).</param>
/// <param name="FromStep">Effective step of W_e, the window's last snapshot.</param>
/// <param name="Phase">W_e (<see cref="GuardPhase.Before"/>) or a candidate (<see cref="GuardPhase.After"/>).</param>
/// <param name="TargetStep">Effective step the weights stand at: <paramref name="FromStep"/> for W_e, the candidate's target otherwise.</param>
/// <param name="Method">Name of the candidate's jump method; null for W_e.</param>
/// <param name="Length">The candidate's jump length j in window lengths; 0 for W_e.</param>
/// <param name="Candidate">0-based index of the candidate in this attempt; −1 for W_e.</param>
/// <param name="Candidates">Candidates planned in this attempt.</param>
public sealed record GuardContext(long Step, long FromStep, GuardPhase Phase, long TargetStep, string? Method, double Length, int Candidate, int Candidates);

/// <summary>
/// A score for the guard, higher is better, with its standard error when the evaluation knows it (e.g. a mean reward
/// over held-out prompts and its standard error). A plain <see cref="double"/> converts to a score with no error.
/// </summary>
/// <param name="Mean">The score.</param>
/// <param name="StandardError">Its standard error, finite and 0 or more; 0 when unknown.</param>
public readonly record struct GuardScore(double Mean, double StandardError = 0)
{
    /// <summary>A score with no known error.</summary>
    public static implicit operator GuardScore(double mean) => new(mean);

    /// <summary>The mean of per-sample scores (e.g. per-prompt rewards) with its standard error s / √n.</summary>
    /// <exception cref="ArgumentException">Fewer than two samples.</exception>
    public static GuardScore FromSamples(IEnumerable<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        long n = 0;
        double mean = 0, m2 = 0;
        foreach (double x in samples)
        {
            n++;
            double d = x - mean;
            mean += d / n;
            m2 += d * (x - mean);
        }
        if (n < 2) throw new ArgumentException($"A standard error needs at least two samples; got {n}.", nameof(samples));
        return new GuardScore(mean, Math.Sqrt(m2 / (n - 1) / n));
    }

    /// <summary>
    /// The guard's rule: whether <paramref name="after"/> is no worse than <paramref name="before"/> beyond noise,
    /// after.Mean ≥ before.Mean − tolerance − z · √(se_before² + se_after²). A non-finite mean is never kept.
    /// </summary>
    /// <param name="before">Score of W_e.</param>
    /// <param name="after">Score of the candidate.</param>
    /// <param name="tolerance"><see cref="AlphaRLOptions.GuardTolerance"/>.</param>
    /// <param name="z"><see cref="AlphaRLOptions.GuardNoiseZ"/>.</param>
    public static bool NoWorse(GuardScore before, GuardScore after, double tolerance, double z)
    {
        if (!double.IsFinite(after.Mean)) return false;
        double noise = z == 0 ? 0 : z * Math.Sqrt(before.StandardError * before.StandardError + after.StandardError * after.StandardError);
        return after.Mean >= before.Mean - tolerance - noise;
    }

    internal void EnsureValid(string what)
    {
        if (!double.IsFinite(StandardError) || StandardError < 0)
            throw new AlphaRlException($"The guard's evaluation of {what} returned StandardError = {StandardError}: a standard error must be finite and 0 or more. The weights before the jump are restored.");
    }
}
