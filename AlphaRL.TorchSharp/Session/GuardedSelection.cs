using System.Diagnostics;
using AlphaRl.TorchSharp.Jumps;
using Microsoft.Extensions.Logging;

namespace AlphaRl.TorchSharp.Session;

/// <summary>What one guarded selection did.</summary>
internal sealed record SelectionResult(bool Kept, GuardScore? ScoreBefore, JumpCandidate? Chosen, IReadOnlyList<JumpCandidate> Candidates,
    int Evaluations, TimeSpan BuildTime, TimeSpan EvaluationTime);

/// <summary>
/// The guard over a grid of candidates: scores W_e once (or takes the score the loop already measured), backs up once
/// every parameter a planned method touches, then for each candidate restores W_e (bit-exact), applies it and scores it.
/// The best candidate is the one with the highest mean score (the earliest, i.e. the shortest, among equal means) among
/// those whose floored metrics meet their floors (<see cref="GuardScore.MeetsFloors"/>); it is kept iff
/// <see cref="GuardScore.NoWorse"/> holds (Core's <see cref="AlphaRl.Jumps.GuardRule"/>, which <c>predict</c> and <c>watch</c> apply too) against W_e's score with <see cref="GuardOptions"/>' tolerance and z; otherwise
/// W_e comes back bit-for-bit. Without an evaluation the single planned candidate is applied unguarded. Any exception
/// (the caller's evaluation, a method's Apply) restores W_e first.
/// </summary>
internal sealed class GuardedSelection(GuardOptions options, ILogger logger)
{
    private readonly IReadOnlyDictionary<string, double> _floors = new Dictionary<string, double>(options.Floors, StringComparer.Ordinal);

    /// <summary>
    /// One jump attempt from the window's last snapshot: runs the selection over <paramref name="plan"/>, logs and
    /// traces what it kept or rejected, and returns the outcome.
    /// </summary>
    public async ValueTask<JumpOutcome> AttemptAsync(SnapshotWindow window, List<PlannedCandidate> plan, long step, AlphaRl.Extrapolation.FitQuality quality,
        AlphaRl.Extrapolation.PathDiagnostics diagnostics, Func<GuardContext, CancellationToken, ValueTask<GuardScore>>? evaluate, GuardScore? current,
        Stopwatch overhead, Action evaluated, KeyValuePair<string, object?> sessionTag, CancellationToken cancellationToken)
    {
        long from = window.Last;
        using var activity = AlphaRLTelemetry.Source.StartActivity("alpharl.jump");
        activity?.SetTag(sessionTag.Key, sessionTag.Value);
        activity?.SetTag("alpharl.step", step);
        activity?.SetTag("alpharl.from_step", from);
        activity?.SetTag("alpharl.candidates", plan.Count);
        var result = await RunAsync(window.Methods, window.View, plan, evaluate, evaluate is null ? null : current, step, overhead, evaluated, cancellationToken).ConfigureAwait(false);
        var chosen = result.Chosen!;
        double? before = result.ScoreBefore?.Mean;
        if (result.Kept)
            Log.JumpKept(logger, from, chosen.TargetStep, chosen.Method, chosen.Length, evaluate is null ? "unguarded" : "guarded", before, chosen.Score, result.Evaluations);
        else
            Log.JumpRejected(logger, from, chosen.TargetStep, chosen.Method, chosen.Length, before, chosen.Score, options.Tolerance, options.NoiseZ, result.Evaluations);
        var jump = new JumpOutcome(step, from, chosen.TargetStep, result.Kept, evaluate is not null, before, chosen.Score, quality,
            window.Tracker.Covered.Count, result.BuildTime, result.EvaluationTime, chosen.Method, chosen.Length, result.Evaluations, result.Candidates, diagnostics)
        {
            StandardErrorBefore = result.ScoreBefore?.StandardError,
            ScoreBeforeGiven = evaluate is not null && current is not null,
        };
        activity?.SetTag("alpharl.target_step", jump.TargetStep);
        activity?.SetTag("alpharl.method", jump.Method);
        activity?.SetTag("alpharl.length", jump.Length);
        activity?.SetTag("alpharl.kept", jump.Kept);
        activity?.SetTag("alpharl.evaluations", jump.Evaluations);
        return jump;
    }

    public async ValueTask<SelectionResult> RunAsync(IReadOnlyList<IJumpMethod> methods, WindowView window, IReadOnlyList<PlannedCandidate> plan,
        Func<GuardContext, CancellationToken, ValueTask<GuardScore>>? evaluate, GuardScore? current, long step,
        Stopwatch overhead, Action evaluated, CancellationToken cancellationToken)
    {
        long from = window.Last;
        var floors = _floors;
        var build = new Stopwatch();
        var evaluation = new Stopwatch();
        int evaluations = 0;
        async ValueTask<GuardScore> Score(GuardContext context)
        {
            evaluation.Start();
            GuardScore score;
            try
            {
                score = await evaluate!(context, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                evaluation.Stop();
                evaluations++;
                evaluated();
            }
            score.EnsureValid(context.Phase == GuardPhase.Before ? $"W_e (step {from})" : $"the candidate {context.Method} j={context.Length} (step {context.TargetStep})");
            return score;
        }
        void Building(bool on)
        {
            if (on) { overhead.Start(); build.Start(); }
            else { overhead.Stop(); build.Stop(); }
        }

        GuardScore? before = evaluate is null ? null
            : current ?? await Score(new GuardContext(step, from, GuardPhase.Before, from, null, 0, -1, plan.Count)).ConfigureAwait(false);
        before?.EnsureValid($"W_e (step {from}), as given by the loop");
        Building(true);
        using var backup = new WeightBackup(plan.Select(c => c.Method).Distinct().SelectMany(i => methods[i].Touches), options.KeepBackupOnCpu);
        Building(false);
        var candidates = new List<JumpCandidate>(plan.Count);
        var scores = new List<GuardScore?>(plan.Count);
        int best = -1;
        try
        {
            for (int k = 0; k < plan.Count; k++)
            {
                var c = plan[k];
                Building(true);
                if (k > 0) backup.Restore();
                methods[c.Method].Apply(window, c.TargetStep);
                Building(false);
                GuardScore? score = evaluate is null ? null
                    : await Score(new GuardContext(step, from, GuardPhase.After, c.TargetStep, methods[c.Method].Name, c.Length, k, plan.Count)).ConfigureAwait(false);
                scores.Add(score);
                bool? meets = score is { } scored ? floors.Count == 0 || GuardScore.MeetsFloors(scored, floors, $"the candidate {methods[c.Method].Name} j={c.Length} (step {c.TargetStep})") : null;
                candidates.Add(new JumpCandidate(methods[c.Method].Name, c.Length, c.TargetStep, score?.Mean)
                    { StandardError = score?.StandardError, Metrics = score?.Metrics, MeetsFloors = meets });
                if (score is { } s) Log.Candidate(logger, methods[c.Method].Name, c.Length, c.TargetStep, s.Mean);
                if (evaluate is null || meets == true && AlphaRl.Jumps.GuardRule.Beats(score!.Value.Mean, best < 0 ? null : scores[best]!.Value.Mean)) best = k;
            }

            bool kept = best >= 0 && (evaluate is null || GuardScore.NoWorse(before!.Value, scores[best]!.Value, options.Tolerance, options.NoiseZ));
            Building(true);
            if (!kept) backup.Restore();
            else if (best != plan.Count - 1)
            {
                // Re-apply on W_e so that the kept weights are exactly what Apply wrote for the best candidate.
                backup.Restore();
                methods[plan[best].Method].Apply(window, plan[best].TargetStep);
            }
            Building(false);
            var chosen = best >= 0 ? candidates[best] : candidates.FirstOrDefault();
            return new SelectionResult(kept, before, chosen, candidates, evaluations, build.Elapsed, evaluation.Elapsed);
        }
        catch
        {
            backup.Restore();
            if (overhead.IsRunning) Building(false);
            throw;
        }
    }
}
