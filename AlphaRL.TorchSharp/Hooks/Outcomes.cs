using AlphaRl.Extrapolation;

namespace AlphaRl.TorchSharp;

/// <summary>What the session did at one training step.</summary>
public enum StepAction
{
    /// <summary>Nothing: not a snapshot step, or all jumps are spent.</summary>
    None,

    /// <summary>A snapshot was taken; the window does not fit (yet), or has too few snapshots.</summary>
    Snapshot,

    /// <summary>The window fitted and the jump was kept: the weights now stand at the target step.</summary>
    JumpKept,

    /// <summary>A jump was tried but the guard kept none of the candidates: the weights were restored bit-for-bit.</summary>
    JumpRejected,

    /// <summary>A jump was due but the window's diagnostics said the path bends (<see cref="AlphaRLOptions.SkipWhenBending"/>): no evaluation was spent.</summary>
    JumpSkipped,
}

/// <summary>The result of <see cref="AlphaRLSession.Step(long, Func{double}?)"/>.</summary>
/// <param name="Step">Optimizer steps trained so far, as passed in.</param>
/// <param name="EffectiveStep">The step the weights now correspond to: trained steps plus steps skipped by kept jumps.</param>
/// <param name="Action">What happened.</param>
/// <param name="Snapshots">Snapshots in the current window after this step.</param>
/// <param name="Fit">Pooled out-of-sample quality of the window's fit, when it was judged at this step.</param>
/// <param name="Jump">The jump, when one was tried at this step.</param>
/// <param name="Diagnostics">The window's path diagnostics, when it was judged at this step.</param>
public sealed record StepOutcome(long Step, long EffectiveStep, StepAction Action, int Snapshots, FitQuality? Fit, JumpOutcome? Jump,
    PathDiagnostics? Diagnostics = null);

/// <summary>One candidate of a jump attempt.</summary>
/// <param name="Method">Name of the jump method that proposed it.</param>
/// <param name="Length">Jump length j, in window lengths.</param>
/// <param name="TargetStep">Effective step it reaches, e + round(j·L).</param>
/// <param name="Score">Its evaluation; null when unguarded.</param>
public sealed record JumpCandidate(string Method, double Length, long TargetStep, double? Score)
{
    /// <summary>The standard error the evaluation reported with <see cref="Score"/> (0 when it reported none); null when unguarded.</summary>
    public double? StandardError { get; init; }

    /// <summary>The secondary metrics the evaluation reported with <see cref="Score"/> (<see cref="GuardScore.Metrics"/>), if any.</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>Whether every floored metric (<see cref="AlphaRLOptions.GuardFloors"/>) was at or above its floor; null when unguarded.</summary>
    public bool? MeetsFloors { get; init; }
}

/// <summary>A jump that was tried: where from, where to, every candidate scored, and what the guard said.</summary>
/// <param name="TrainedStep">Optimizer steps trained when the jump was tried.</param>
/// <param name="FromStep">Effective step of the window's last snapshot (e).</param>
/// <param name="TargetStep">Effective step of the chosen (best-scoring) candidate (T), kept or not.</param>
/// <param name="Kept">Whether the chosen candidate's weights were kept.</param>
/// <param name="Guarded">Whether an evaluation judged the jump (false: applied unguarded).</param>
/// <param name="ScoreBefore">Evaluation of W_e (j = 0), when guarded.</param>
/// <param name="ScoreAfter">Evaluation of the chosen candidate, when guarded.</param>
/// <param name="Fit">Pooled out-of-sample quality of the fit that was extrapolated.</param>
/// <param name="Matrices">Matrices jumped.</param>
/// <param name="BuildTime">Time to fit, predict and write the weights (and to restore them when rejected).</param>
/// <param name="EvaluationTime">Time spent in the caller's evaluation.</param>
/// <param name="Method">Name of the chosen candidate's jump method.</param>
/// <param name="Length">Jump length j of the chosen candidate, in window lengths.</param>
/// <param name="Evaluations">Evaluations spent on this attempt, including that of W_e.</param>
/// <param name="Candidates">Every candidate tried, in the order evaluated.</param>
/// <param name="Diagnostics">The window's path diagnostics at the attempt.</param>
public sealed record JumpOutcome(
    long TrainedStep, long FromStep, long TargetStep, bool Kept, bool Guarded, double? ScoreBefore, double? ScoreAfter,
    FitQuality Fit, int Matrices, TimeSpan BuildTime, TimeSpan EvaluationTime,
    string Method, double Length, int Evaluations, IReadOnlyList<JumpCandidate> Candidates, PathDiagnostics? Diagnostics)
{
    /// <summary>The standard error the evaluation reported with <see cref="ScoreBefore"/> (0 when none); null when unguarded.</summary>
    public double? StandardErrorBefore { get; init; }

    /// <summary>Whether <see cref="ScoreBefore"/> was given by the loop (no evaluation spent on W_e).</summary>
    public bool ScoreBeforeGiven { get; init; }

    /// <summary>Effective steps gained by the jump (0 when rejected).</summary>
    public long StepsSkipped => Kept ? TargetStep - FromStep : 0;
}
