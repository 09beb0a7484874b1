using AlphaRl.Jumps;
using AlphaRl.TorchSharp.Jumps;

namespace AlphaRl.TorchSharp;

/// <summary>
/// Settings of an AlphaRL session, one group per part of the session: <see cref="Snapshots"/> (when to snapshot and
/// what is kept), <see cref="Attempts"/> (when a jump is tried), <see cref="Jumps"/> (which candidates),
/// <see cref="Guard"/> (which candidate is kept) and <see cref="Coverage"/> (which parameters). Every setting is data
/// with a documented default; behaviour (a coverage predicate, a custom trajectory fit) goes beside the settings in
/// <see cref="SessionServices"/>. Invalid values are reported together, each naming the setting by its path and its
/// value (<see cref="AlphaRLOptionsValidator"/>). The flat names of earlier versions (<c>SnapshotInterval</c>,
/// <c>GuardTolerance</c>, ...) still work and are marked obsolete; docs/migration.md maps each to its new place.
/// </summary>
public sealed partial class AlphaRLOptions
{
    /// <summary>
    /// The paper's method, one name away: the rank-1 line (<see cref="Rank1LineJumpOptions"/>) and a single jump to
    /// window start + <paramref name="targetMultiple"/> × window length (Jumps.Lengths = [0, targetMultiple − 1]),
    /// judged when the window fits (<see cref="JumpSchedule.OnFit"/>). Other settings keep their defaults.
    /// </summary>
    /// <param name="targetMultiple">Where to jump, in window lengths from the window's start; greater than 1, default 3.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetMultiple"/> is not greater than 1.</exception>
    public static AlphaRLOptions Paper(double targetMultiple = JumpDefaults.PaperTargetMultiple)
    {
        if (JumpDefaults.CheckTargetMultiple(targetMultiple) is { } problem)
            throw new ArgumentOutOfRangeException(nameof(targetMultiple), targetMultiple, $"The paper's target multiple {problem}.");
        return new()
        {
            Jumps = { Methods = [new Rank1LineJumpOptions()], Lengths = [0, JumpGeometry.LengthOfMultiple(targetMultiple)] },
            Attempts = { Schedule = JumpSchedule.OnFit },
        };
    }

    /// <summary>When the session snapshots and what it keeps of the window.</summary>
    public SnapshotOptions Snapshots { get; set; } = new();

    /// <summary>When the session tries a jump: the fit gate, the schedule, bending, the jump budget.</summary>
    public AttemptOptions Attempts { get; set; } = new();

    /// <summary>Which candidates an attempt tries: methods, lengths or a target step, the evaluation cap.</summary>
    public JumpOptions Jumps { get; set; } = new();

    /// <summary>How the guard keeps a candidate: tolerance, noise, floors on secondary metrics.</summary>
    public GuardOptions Guard { get; set; } = new();

    /// <summary>Which parameters are covered, beyond the default rule.</summary>
    public CoverageOptions Coverage { get; set; } = new();

    /// <summary>
    /// A deep copy: every group, its lists and every jump method's options are copied, so changing this object
    /// afterwards does not change the copy.
    /// </summary>
    public AlphaRLOptions Clone()
    {
        var copy = (AlphaRLOptions)MemberwiseClone();
        copy.Snapshots = Snapshots?.Clone()!;
        copy.Attempts = Attempts?.Clone()!;
        copy.Jumps = Jumps?.Clone()!;
        copy.Guard = Guard?.Clone()!;
        copy.Coverage = Coverage?.Clone()!;
        return copy;
    }
}
