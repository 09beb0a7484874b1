using AlphaRl.Jumps;

namespace AlphaRl.TorchSharp.Session;

/// <summary>A candidate to try: which method, which jump length, where it lands.</summary>
internal readonly record struct PlannedCandidate(int Method, double Length, long TargetStep);

/// <summary>
/// The candidates of one attempt (<see cref="JumpOptions"/>): the lengths (or the target step) through
/// <see cref="JumpPlanner"/>, each for every method in order, capped by <see cref="JumpOptions.MaxEvaluations"/>;
/// unguarded, the first method's largest jump alone.
/// </summary>
internal sealed class CandidatePlanner(JumpOptions options)
{
    /// <summary>The candidates from the window (<paramref name="windowStart"/>, <paramref name="last"/>); empty when nothing lies beyond e.</summary>
    public List<PlannedCandidate> Plan(long windowStart, long last, int methods, bool guarded)
    {
        var jumps = JumpPlanner.Beyond(options.Lengths, options.TargetStep, windowStart, last);
        if (!guarded) return jumps.Count == 0 ? [] : [new PlannedCandidate(0, jumps[^1].Length, jumps[^1].TargetStep)];
        var plan = jumps.SelectMany(j => Enumerable.Range(0, methods).Select(m => new PlannedCandidate(m, j.Length, j.TargetStep))).ToList();
        if (options.MaxEvaluations is { } cap && plan.Count > cap - 1) plan.RemoveRange(cap - 1, plan.Count - (cap - 1));
        return plan;
    }

    /// <summary>The step the options ask to reach, when they name one.</summary>
    public long? TargetStep => options.TargetStep;
}
