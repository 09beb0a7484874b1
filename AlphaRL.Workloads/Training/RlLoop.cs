using AlphaRl.TorchSharp;
using Microsoft.Extensions.Logging;

namespace AlphaRl.Workloads.Training;

/// <summary>What an RL loop did.</summary>
/// <param name="StepsTrained">Optimizer steps actually trained.</param>
/// <param name="EffectiveStep">The step the final weights stand for (trained plus skipped by kept jumps).</param>
/// <param name="TrainTime">Wall time of the RL steps themselves.</param>
/// <param name="OverheadTime">AlphaRL's own time: snapshots, fits, building and restoring jumps.</param>
/// <param name="GuardTime">Time spent in the guard's evaluations.</param>
/// <param name="Jumps">Every jump tried, kept or rejected.</param>
public sealed record RlLoopResult(int StepsTrained, long EffectiveStep, TimeSpan TrainTime, TimeSpan OverheadTime, TimeSpan GuardTime, IReadOnlyList<JumpOutcome> Jumps)
{
    /// <summary>Everything the run cost: RL steps plus AlphaRL's overhead and guard evaluations.</summary>
    public TimeSpan WallTime => TrainTime + OverheadTime + GuardTime;
}

/// <summary>
/// The reference training loop: RL steps until the weights stand at the target step, with AlphaRL attached by the two
/// lines of the hook (the guard scores validation accuracy; a kept jump resets the optimizer's moments).
/// </summary>
public static class RlLoop
{
    /// <summary>
    /// Trains <paramref name="run"/> until its weights stand at <paramref name="targetStep"/>: every step when
    /// <paramref name="options"/> is null, fewer when AlphaRL jumps ahead.
    /// </summary>
    /// <param name="run">The RL run (GRPO or PPO).</param>
    /// <param name="targetStep">The step the final weights should stand for.</param>
    /// <param name="options">AlphaRL's settings, or null to train without it.</param>
    /// <param name="onStep">Called after each step with its statistics and AlphaRL's outcome (null without AlphaRL).</param>
    /// <param name="onFinished">Called with the session before it is disposed (to read its tracker or coverage).</param>
    /// <param name="logger">AlphaRL's logger.</param>
    public static RlLoopResult Train(IRlRun run, long targetStep, AlphaRLOptions? options,
        Action<RlStepStats, StepOutcome?>? onStep = null, Action<AlphaRLSession>? onFinished = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetStep, 1);
        using var alpha = options is null ? null : AlphaRL.Accelerate(run.Policy, options, logger);
        var train = TimeSpan.Zero;
        long effective = run.StepsDone;
        int step = run.StepsDone;
        while (effective < targetStep)
        {
            var stats = run.TrainStep();
            train += stats.Elapsed;
            step = stats.Step;
            var outcome = alpha?.Step(step, () => run.Evaluate(EvalSplit.Validation));
            if (outcome?.Action == StepAction.JumpKept) run.ResetOptimizerState();
            effective = outcome?.EffectiveStep ?? step;
            onStep?.Invoke(stats, outcome);
        }
        if (alpha is null) return new RlLoopResult(step, effective, train, TimeSpan.Zero, TimeSpan.Zero, []);
        onFinished?.Invoke(alpha);
        var guard = alpha.Jumps.Aggregate(TimeSpan.Zero, (sum, j) => sum + j.EvaluationTime);
        return new RlLoopResult(step, effective, train, alpha.OverheadTime, guard, alpha.Jumps.ToList());
    }
}
