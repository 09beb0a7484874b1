using Microsoft.Extensions.Logging;

namespace AlphaRl.TorchSharp.Session;

/// <summary>
/// Which trained steps are snapshot steps (<see cref="SnapshotOptions"/>): every <see cref="SnapshotOptions.Interval"/>
/// steps from the window's start. It knows where the session started and the last step it was told about, and warns
/// once when a call steps over a snapshot step.
/// </summary>
internal sealed class SnapshotClock(SnapshotOptions options, ILogger logger)
{
    /// <summary>The trained step the session started at (W0's step); null until the first step says.</summary>
    public long? Start { get; private set; }

    /// <summary>The last trained step passed to <see cref="Advance"/> (the start before any).</summary>
    public long LastStep { get; private set; }

    /// <summary>The trained step the current window began at.</summary>
    public long WindowStart { get; private set; }

    private bool _missedWarned;

    /// <summary>Fixes where the session starts: W0 is the policy at trained step <paramref name="start"/>.</summary>
    public void Begin(long start) => Start = LastStep = WindowStart = start;

    /// <summary>
    /// Where a session whose start the options did not fix started, from its first step: a first step within the
    /// first interval means it started at 0, a later one that it started the step before.
    /// </summary>
    public long StartBefore(long firstStep) => firstStep <= options.Interval ? 0 : firstStep - 1;

    /// <summary>Moves to trained step <paramref name="step"/> and says whether it is a snapshot step.</summary>
    /// <param name="step">Trained steps so far; must increase.</param>
    /// <param name="quiet">No snapshot is wanted any more (the jumps are spent): no warning about a missed one.</param>
    public bool Advance(long step, bool quiet)
    {
        if (step <= LastStep)
            throw new ArgumentOutOfRangeException(nameof(step), step, step == Start
                ? $"Step {step} is the session's start step (W0 is the policy at step {Start}): pass the steps trained after it, starting at {Start + 1}."
                : $"Steps must increase: step {step} follows step {LastStep}.");
        long previous = LastStep;
        LastStep = step;
        long sinceWindow = step - WindowStart;
        bool due = sinceWindow % options.Interval == 0;
        // The latest snapshot step at or before this one; past the previous call's step, this call stepped over it.
        long latest = WindowStart + sinceWindow / options.Interval * options.Interval;
        if (!due && !quiet && !_missedWarned && latest > previous)
        {
            _missedWarned = true;
            Log.MissedSnapshot(logger, step, previous, latest, options.Interval, WindowStart);
        }
        return due;
    }

    /// <summary>A new window begins at trained step <paramref name="trained"/>.</summary>
    public void NewWindow(long trained) => WindowStart = trained;

    public ClockState Save() => new(Start, LastStep, WindowStart, _missedWarned);

    public void Load(ClockState state)
    {
        (Start, LastStep, WindowStart, _missedWarned) = (state.StartStep, state.LastStep, state.WindowStartTrained, state.MissedSnapshotWarned);
    }
}

/// <summary>The clock's saved state.</summary>
internal sealed record ClockState(long? StartStep, long LastStep, long WindowStartTrained, bool MissedSnapshotWarned);
