namespace AlphaRl.Workloads.Evaluation;

/// <summary>What the seeds of one learning rate did: their mean curve and how each seed ended.</summary>
/// <param name="Multiple">The rate, as a multiple of the regime's base rate.</param>
/// <param name="Mean">The mean over seeds of their quality curves (all measured on the same cadence).</param>
/// <param name="Seeds">The seeds' curves.</param>
/// <param name="CollapsedSeeds">Seeds that collapsed (<see cref="Curve.Collapsed"/>).</param>
/// <param name="DeclinedSeeds">Seeds that ended below their best by more than a quarter of their best gain (not collapsed).</param>
public sealed record RateOutcome(double Multiple, Curve Mean, IReadOnlyList<Curve> Seeds, int CollapsedSeeds, int DeclinedSeeds)
{
    /// <summary>Every seed kept at least three quarters of its best gain.</summary>
    public bool Stable => CollapsedSeeds == 0 && DeclinedSeeds == 0;

    /// <summary>The rate's seeds, assessed.</summary>
    public static RateOutcome Of(double multiple, IReadOnlyList<Curve> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0) throw new ArgumentException("A rate needs at least one seed's curve.", nameof(seeds));
        return new RateOutcome(multiple, Sweep.MeanCurve(seeds), seeds, seeds.Count(c => c.Collapsed()), seeds.Count(c => !c.Collapsed() && Declined(c)));
    }

    private static bool Declined(Curve curve) => curve.Final < curve.Peak - 0.25 * (curve.Peak - curve.Initial) - Curve.Epsilon;
}

/// <summary>
/// The learning-rate sweep's verdict. The target is the best mean final quality among stable rates (the best result the
/// sweep found at the budget T); the tuned rate is the stable rate whose mean curve reaches that target in the fewest
/// steps (ties: the smaller rate).
/// </summary>
public static class Sweep
{
    /// <summary>The tuned rate and the target, or null when no rate is stable.</summary>
    public static (RateOutcome Tuned, double Target)? Tune(IReadOnlyList<RateOutcome> rates)
    {
        ArgumentNullException.ThrowIfNull(rates);
        var stable = rates.Where(r => r.Stable).ToList();
        if (stable.Count == 0) return null;
        double target = stable.Max(r => r.Mean.Final);
        var tuned = stable
            .Select(r => (Rate: r, Steps: r.Mean.FirstReach(target)))
            .Where(x => x.Steps is not null)
            .OrderBy(x => x.Steps).ThenBy(x => x.Rate.Multiple)
            .First().Rate;
        return (tuned, target);
    }

    /// <summary>The mean of curves measured on the same steps (point by point); throws when their steps differ.</summary>
    public static Curve MeanCurve(IReadOnlyList<Curve> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        if (curves.Count == 0) throw new ArgumentException("No curves to average.", nameof(curves));
        var steps = curves[0].Steps;
        foreach (var c in curves)
            if (!c.Steps.SequenceEqual(steps))
                throw new ArgumentException("Curves measured on different steps cannot be averaged point by point.", nameof(curves));
        return new Curve(steps, Enumerable.Range(0, steps.Count).Select(i => curves.Average(c => c.Values[i])).ToArray());
    }

    /// <summary>
    /// The sweep's cost in RL steps to a target, as a user pays it (AlgoPerf's self-tuning accounting): every other rate
    /// of the grid run once for T steps, plus the tuned rate's run until it reaches the target.
    /// </summary>
    public static int CostOfTuning(int rates, int totalSteps, int tunedStepsToTarget) => (rates - 1) * totalSteps + tunedStepsToTarget;

    /// <summary>
    /// The largest shortfall of <paramref name="stacked"/> below <paramref name="alone"/> at the same step count, over
    /// the steps both measured (0 when it is never below).
    /// </summary>
    public static double WorstShortfall(Curve stacked, Curve alone)
    {
        ArgumentNullException.ThrowIfNull(stacked);
        ArgumentNullException.ThrowIfNull(alone);
        double worst = 0;
        int last = Math.Min(stacked.LastStep, alone.LastStep);
        foreach (int step in alone.Steps.Where(s => s <= last && s >= stacked.Steps[0]).Distinct())
            worst = Math.Max(worst, alone.At(step) - stacked.At(step));
        return worst;
    }

    /// <summary>
    /// A retained skill lost per unit of task reward gained: by a jump from <paramref name="before"/> to
    /// <paramref name="after"/>, and by training from the same weights (the last point of <paramref name="training"/> at or
    /// before step <paramref name="from"/>) until it first reaches the task reward the jump landed on (or its last point).
    /// Null when the jump gained nothing on the task; the training figure is null when training gained nothing either.
    /// </summary>
    public static (double Jump, double? Training)? ForgettingPerGain((double Task, double Retained) before, (double Task, double Retained) after,
        IReadOnlyList<(int Step, double Task, double Retained)> training, int from)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (after.Task - before.Task <= 0) return null;
        double jump = (before.Retained - after.Retained) / (after.Task - before.Task);
        var start = training.LastOrDefault(p => p.Step <= from);
        if (training.Count == 0 || start.Step > from) return (jump, null);
        var end = training.FirstOrDefault(p => p.Step > from && p.Task >= after.Task);
        if (end.Step <= from) end = training[^1];
        double? perGain = end.Task - start.Task > 0 ? (start.Retained - end.Retained) / (end.Task - start.Task) : null;
        return (jump, perGain);
    }
}
