using static TorchSharp.torch;
using static TorchSharp.torch.optim;
using static TorchSharp.torch.optim.lr_scheduler;

namespace AlphaRl.TorchSharp;

/// <summary>
/// What a training loop does after a kept jump: the optimizer's moments belong to weights the jump left behind, so the
/// optimizer is replaced by a fresh one, and the learning-rate schedule is moved on to the step the weights now stand at
/// (the trained steps plus the steps the jump skipped), as if those steps had been trained.
/// </summary>
/// <example>
/// <code>
/// alpha.Jumped += (_, jump) =>
/// {
///     if (!jump.Kept) return;
///     (optimizer, scheduler) = OptimizerRestart.AfterJump(optimizer,
///         () => optim.AdamW(policy.parameters(), lr: 1e-4),
///         o => optim.lr_scheduler.StepLR(o, step_size: 100, gamma: 0.5),
///         scheduleSteps: alpha.LastStep + alpha.StepsSkipped - runStart);
/// };
/// </code>
/// </example>
public static class OptimizerRestart
{
    /// <summary>
    /// Disposes <paramref name="old"/>, creates a new optimizer and its schedule, and advances the schedule by
    /// <paramref name="scheduleSteps"/> calls of <c>step()</c>, so that its learning rate is the one the uninterrupted
    /// schedule would have at that step.
    /// </summary>
    /// <param name="old">The optimizer in use; disposed (with its moment buffers).</param>
    /// <param name="create">Creates the new optimizer (e.g. <c>() => optim.AdamW(policy.parameters(), lr)</c>).</param>
    /// <param name="schedule">Creates the schedule on the new optimizer.</param>
    /// <param name="scheduleSteps">Scheduler steps to take: the step the weights stand at, counted from the schedule's start
    /// (after a kept jump, the session's <see cref="AlphaRLSession.LastStep"/> + <see cref="AlphaRLSession.StepsSkipped"/> − the run's start).</param>
    /// <typeparam name="TOptimizer">The optimizer's type (e.g. AdamW).</typeparam>
    /// <typeparam name="TScheduler">The schedule's type.</typeparam>
    /// <returns>The new optimizer and its schedule.</returns>
    public static (TOptimizer Optimizer, TScheduler Scheduler) AfterJump<TOptimizer, TScheduler>(TOptimizer old, Func<TOptimizer> create,
        Func<TOptimizer, TScheduler> schedule, long scheduleSteps)
        where TOptimizer : Optimizer
        where TScheduler : LRScheduler
    {
        ArgumentNullException.ThrowIfNull(old);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentOutOfRangeException.ThrowIfNegative(scheduleSteps);
        var optimizer = create();
        if (ReferenceEquals(optimizer, old))
            throw new ArgumentException("The optimizer factory returned the optimizer being replaced; it must create a new one.", nameof(create));
        (old as IDisposable)?.Dispose();
        var scheduler = schedule(optimizer);
        for (long i = 0; i < scheduleSteps; i++) scheduler.step();
        return (optimizer, scheduler);
    }
}
