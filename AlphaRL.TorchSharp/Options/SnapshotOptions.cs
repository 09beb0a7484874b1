using AlphaRl.Linalg;

namespace AlphaRl.TorchSharp;

/// <summary>When the session snapshots the covered matrices and what it keeps of them (<see cref="AlphaRLOptions.Snapshots"/>).</summary>
public sealed class SnapshotOptions
{
    /// <summary>Optimizer steps between two snapshots. Default 10.</summary>
    public int Interval { get; set; } = 10;

    /// <summary>
    /// The trained step the policy stands at when the session starts (W0's step), e.g. 1000 when attaching to a run
    /// resumed from a checkpoint at step 1000. Snapshots fall on StartStep + k × <see cref="Interval"/> and window lengths
    /// count from it. Default null: the first <see cref="AlphaRLSession.Step(long, Func{double}?)"/> call decides — a first
    /// step within the first interval (1 to Interval) means the session started at 0; a later first step s means it
    /// started at s − 1 (W0 is the policy before that step).
    /// </summary>
    public long? StartStep { get; set; }

    /// <summary>Snapshots kept at most; beyond this the oldest is dropped (a sliding window). Default 16.</summary>
    public int Max { get; set; } = 16;

    /// <summary>Keep the copy of W0 in host memory instead of on the parameters' device. Default false.</summary>
    public bool KeepBaseOnCpu { get; set; }

    /// <summary>Settings of the warm-started power iteration for the top singular triplet.</summary>
    public PowerIterationOptions PowerIteration { get; set; } = PowerIterationOptions.Default;

    internal void Validate(OptionErrors errors, int minSnapshots)
    {
        errors.Require(Interval >= 1, "Snapshots.Interval", Interval, "must be at least 1");
        if (StartStep is { } start)
            errors.Require(start >= 0, "Snapshots.StartStep", start, "must be 0 or more (the trained step the policy stands at)");
        errors.Require(Max >= minSnapshots, "Snapshots.Max", Max, $"must be at least Attempts.MinSnapshots ({minSnapshots})");
        if (!errors.Require(PowerIteration is not null, "Snapshots.PowerIteration", PowerIteration, "must be set")) return;
        errors.Require(PowerIteration!.Tolerance > 0 && float.IsFinite(PowerIteration.Tolerance), "Snapshots.PowerIteration.Tolerance", PowerIteration.Tolerance, "must be a positive finite number");
        errors.Require(PowerIteration.MaxIterations >= 1, "Snapshots.PowerIteration.MaxIterations", PowerIteration.MaxIterations, "must be at least 1");
        errors.Require(PowerIteration.WarmPasses >= 0, "Snapshots.PowerIteration.WarmPasses", PowerIteration.WarmPasses, "must be 0 or more (passes per warm-started snapshot; 0: iterate to the tolerance)");
    }

    internal SnapshotOptions Clone() => (SnapshotOptions)MemberwiseClone();
}
