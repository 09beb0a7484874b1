namespace AlphaRl.Jumps;

/// <summary>One jump to try: its length in window lengths and the step it reaches.</summary>
public readonly record struct PlannedJump(double Length, long TargetStep);

/// <summary>
/// Turns jump lengths (or one target step) into the jumps of an attempt from a window (s, e), with
/// <see cref="JumpGeometry"/>'s single rounding rule.
/// </summary>
public static class JumpPlanner
{
    /// <summary>
    /// The jumps beyond e, smallest first: each length above 0 once, in ascending order, dropping a length whose target
    /// step repeats a shorter one's; or, with <paramref name="targetStep"/>, the single jump reaching it (none when it is
    /// not beyond e). Empty when the window has no length.
    /// </summary>
    public static List<PlannedJump> Beyond(IEnumerable<double> lengths, long? targetStep, long windowStart, long last)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        if (last <= windowStart) return [];
        if (targetStep is { } target)
            return target > last ? [new PlannedJump(JumpGeometry.LengthTo(target, last, windowStart), target)] : [];
        var plan = new List<PlannedJump>();
        foreach (double j in lengths.Where(j => j > 0).Distinct().Order())
        {
            long to = JumpGeometry.Target(last, windowStart, j);
            if (to > last && (plan.Count == 0 || plan[^1].TargetStep != to)) plan.Add(new PlannedJump(j, to));
        }
        return plan;
    }
}
