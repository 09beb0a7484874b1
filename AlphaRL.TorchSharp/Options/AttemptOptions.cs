using AlphaRl.Jumps;

namespace AlphaRl.TorchSharp;

/// <summary>When the session tries a jump: the window's fit gate, the schedule, bending and the jump budget (<see cref="AlphaRLOptions.Attempts"/>).</summary>
public sealed class AttemptOptions
{
    /// <summary>When jumps are tried. Default <see cref="JumpSchedule.OnFit"/>.</summary>
    public JumpSchedule Schedule { get; set; } = JumpSchedule.OnFit;

    /// <summary>Snapshots a window needs before its fit is judged. At least 3 (two to fit, one held out). Default 4.</summary>
    public int MinSnapshots { get; set; } = JumpDefaults.MinSnapshots;

    /// <summary>
    /// The window "fits" when the pooled out-of-sample relative error of the rank-1 predictions (fit on the earlier
    /// snapshots, predict the later ones) is at most this. Default 0.10.
    /// </summary>
    public double FitThreshold { get; set; } = JumpDefaults.FitThreshold;

    /// <summary>Share of the window's latest snapshots held out to judge the fit. Default 0.25 (at least one).</summary>
    public double HoldOutFraction { get; set; } = JumpDefaults.HoldOutFraction;

    /// <summary>Kept jumps at most; after each kept jump a new window starts. 0 only tracks. Default 1.</summary>
    public int MaxJumps { get; set; } = 1;

    /// <summary>
    /// Skip the attempt (no evaluation spent, <see cref="StepAction.JumpSkipped"/>) when the window's diagnostics say the
    /// path bends: <see cref="AlphaRl.Extrapolation.PathDiagnostics.VelocityCosine"/> below <see cref="MinVelocityCosine"/>
    /// or <see cref="AlphaRl.Extrapolation.PathDiagnostics.StepNormTrend"/> below <see cref="MinStepNormTrend"/>. Default false.
    /// </summary>
    public bool SkipWhenBending { get; set; }

    /// <summary>With <see cref="SkipWhenBending"/>: the least velocity cosine between the window's halves that still counts as straight. Default 0.9.</summary>
    public double MinVelocityCosine { get; set; } = 0.9;

    /// <summary>With <see cref="SkipWhenBending"/>: the least step-norm trend (second half over first) that still counts as steady. Default 0.5.</summary>
    public double MinStepNormTrend { get; set; } = 0.5;

    internal void Validate(OptionErrors errors)
    {
        errors.Require(Enum.IsDefined(Schedule), "Attempts.Schedule", Schedule, "must be OnFit or Repeated");
        if (JumpDefaults.CheckMinSnapshots(MinSnapshots) is { } few) errors.Add("Attempts.MinSnapshots", MinSnapshots, few);
        if (JumpDefaults.CheckFitThreshold(FitThreshold) is { } bad) errors.Add("Attempts.FitThreshold", FitThreshold, bad);
        errors.Require(HoldOutFraction is > 0 and < 1, "Attempts.HoldOutFraction", HoldOutFraction, "must be between 0 and 1 (exclusive)");
        errors.Require(MaxJumps >= 0, "Attempts.MaxJumps", MaxJumps, "must be 0 or more");
        errors.Require(double.IsFinite(MinVelocityCosine) && MinVelocityCosine is >= -1 and <= 1, "Attempts.MinVelocityCosine", MinVelocityCosine, "must be a cosine between -1 and 1");
        errors.Require(double.IsFinite(MinStepNormTrend) && MinStepNormTrend >= 0, "Attempts.MinStepNormTrend", MinStepNormTrend, "must be a finite ratio, 0 or more");
    }

    internal AttemptOptions Clone() => (AttemptOptions)MemberwiseClone();
}

/// <summary>When the session tries a jump.</summary>
public enum JumpSchedule
{
    /// <summary>
    /// Once the window has <see cref="AttemptOptions.MinSnapshots"/> snapshots, judge it at every snapshot and try a jump
    /// when the rank-1 fit's held-out error is within <see cref="AttemptOptions.FitThreshold"/>; the window slides up to
    /// <see cref="SnapshotOptions.Max"/> snapshots. After a rejection, wait MinSnapshots new snapshots. A new window starts after a kept jump.
    /// </summary>
    OnFit,

    /// <summary>
    /// Blocks of <see cref="AttemptOptions.MinSnapshots"/> snapshots: at each block's end try the guarded jump whatever the
    /// fit says (unless <see cref="AttemptOptions.SkipWhenBending"/> refuses), then start a new window at the effective step
    /// reached, kept or not, until <see cref="AttemptOptions.MaxJumps"/> jumps are kept (RL-Extra's alternation, guarded).
    /// </summary>
    Repeated,
}
