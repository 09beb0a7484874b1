using AlphaRl.Extrapolation;

namespace AlphaRl.TorchSharp.Session;

/// <summary>
/// When a jump is tried (<see cref="AttemptOptions"/>): after enough snapshots, when the window fits (or at every block
/// end with <see cref="JumpSchedule.Repeated"/>), not again too soon after a rejection, not when the path bends (if
/// asked), and not once the kept jumps are spent.
/// </summary>
internal sealed class AttemptSchedule(AttemptOptions options)
{
    private int _sinceAttempt;

    public bool Repeated => options.Schedule == JumpSchedule.Repeated;

    /// <summary>Whether no more jumps may be kept (then the session stops snapshotting).</summary>
    public bool Spent(int kept) => options.MaxJumps > 0 && kept >= options.MaxJumps;

    /// <summary>A snapshot was taken.</summary>
    public void Snapshotted() => _sinceAttempt++;

    /// <summary>A jump was tried.</summary>
    public void Attempted() => _sinceAttempt = 0;

    /// <summary>
    /// Whether the window of <paramref name="snapshots"/> is judged now. OnFit: after a rejected attempt, wait for
    /// MinSnapshots new snapshots before judging again (each attempt costs evaluations).
    /// </summary>
    public bool Judge(int snapshots, bool lastAttemptRejected) =>
        snapshots >= options.MinSnapshots && (Repeated || !(lastAttemptRejected && _sinceAttempt < options.MinSnapshots));

    /// <summary>Whether the judged window is worth an attempt: jumps are on, and it fits or the schedule repeats.</summary>
    public bool Attempt(FitQuality quality) => !JumpsOff && (Repeated || quality.RelativeError <= options.FitThreshold);

    public double FitThreshold => options.FitThreshold;

    public bool JumpsOff => options.MaxJumps == 0;

    /// <summary>Why the attempt is skipped without an evaluation (the path bends), or null.</summary>
    public string? Skip(PathDiagnostics diagnostics) =>
        options.SkipWhenBending ? diagnostics.Bends(options.MinVelocityCosine, options.MinStepNormTrend) : null;

    public ScheduleState Save() => new(_sinceAttempt);

    public void Load(ScheduleState state) => _sinceAttempt = state.SnapshotsSinceAttempt;
}

/// <summary>The schedule's saved state.</summary>
internal sealed record ScheduleState(int SnapshotsSinceAttempt);
