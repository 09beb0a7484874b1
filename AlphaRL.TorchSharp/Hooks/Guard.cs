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
/// over held-out prompts and its standard error), and any secondary metrics (<see cref="Metrics"/>) that
/// <see cref="AlphaRLOptions.GuardFloors"/> puts floors on. A plain <see cref="double"/> converts to a score with no error.
/// </summary>
/// <param name="Mean">The score.</param>
/// <param name="StandardError">Its standard error, finite and 0 or more; 0 when unknown.</param>
public readonly record struct GuardScore(double Mean, double StandardError = 0)
{
    /// <summary>
    /// Secondary metrics of the same weights by name (e.g. the accuracy on a skill the base had), higher is better; a
    /// candidate is kept only if each metric named in <see cref="AlphaRLOptions.GuardFloors"/> is at or above its floor.
    /// </summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>A score with no known error.</summary>
    public static implicit operator GuardScore(double mean) => new(mean);

    /// <summary>This score with the secondary metric <paramref name="name"/> set to <paramref name="value"/>.</summary>
    public GuardScore WithMetric(string name, double value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var metrics = Metrics is null ? new Dictionary<string, double>(StringComparer.Ordinal) : new Dictionary<string, double>(Metrics, StringComparer.Ordinal);
        metrics[name] = value;
        return this with { Metrics = metrics };
    }

    /// <summary>
    /// Whether every metric named in <paramref name="floors"/> is at or above its floor in <paramref name="score"/>.
    /// A floored metric the evaluation did not report, or reported as NaN or infinite, is an error (the weights before the
    /// jump are restored): the guard cannot judge what it was not told.
    /// </summary>
    /// <param name="score">A candidate's score.</param>
    /// <param name="floors"><see cref="AlphaRLOptions.GuardFloors"/>.</param>
    /// <param name="what">The candidate, for the error message.</param>
    public static bool MeetsFloors(GuardScore score, IReadOnlyDictionary<string, double> floors, string what)
    {
        ArgumentNullException.ThrowIfNull(floors);
        bool meets = true;
        foreach (var (name, floor) in floors)
        {
            if (score.Metrics is null || !score.Metrics.TryGetValue(name, out double value))
                throw new AlphaRLException($"The guard's evaluation of {what} reported no metric \"{name}\", which AlphaRLOptions.GuardFloors puts a floor on ({floor}). Report it with GuardScore.WithMetric(\"{name}\", value). The weights before the jump are restored.");
            if (!double.IsFinite(value))
                throw new AlphaRLException($"The guard's evaluation of {what} reported the metric \"{name}\" = {value}: a floored metric must be a finite number. The weights before the jump are restored.");
            meets &= value >= floor;
        }
        return meets;
    }

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
    public static bool NoWorse(GuardScore before, GuardScore after, double tolerance, double z) =>
        AlphaRl.Jumps.GuardRule.NoWorse(before.Mean, before.StandardError, after.Mean, after.StandardError, tolerance, z);

    internal void EnsureValid(string what)
    {
        if (!double.IsFinite(StandardError) || StandardError < 0)
            throw new AlphaRLException($"The guard's evaluation of {what} returned StandardError = {StandardError}: a standard error must be finite and 0 or more. The weights before the jump are restored.");
    }
}
