namespace AlphaRl.TorchSharp;

/// <summary>
/// A <see cref="AlphaRLSession.Jumped"/> handler threw. The jump it was told about is complete and recorded (kept
/// weights stay, a rejected jump's weights were restored, the session's counters and window are updated), so the run
/// can go on; <see cref="Outcome"/> is what Step would have returned, and the handler's exception is the inner exception.
/// </summary>
public sealed class JumpedHandlerException : AlphaRLException
{
    internal JumpedHandlerException(StepOutcome outcome, Exception inner)
        : base($"A Jumped handler threw after the jump at step {outcome.Step} ({outcome.Jump!.FromStep} -> {outcome.Jump.TargetStep}) was {(outcome.Jump.Kept ? "kept" : "rejected")}; the jump is done and recorded, and the session's state is consistent. See the inner exception.", inner)
        => Outcome = outcome;

    /// <summary>The outcome of the step at which the handler threw.</summary>
    public StepOutcome Outcome { get; }
}
