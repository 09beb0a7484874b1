using System.Diagnostics;
using AlphaRl.TorchSharp.Jumps;
using Microsoft.Extensions.Logging;

namespace AlphaRl.TorchSharp;

/// <summary>A candidate to try: which method, which jump length.</summary>
internal readonly record struct PlannedCandidate(int Method, double Length, long TargetStep);

/// <summary>What one guarded selection did.</summary>
internal sealed record SelectionResult(bool Kept, double? ScoreBefore, JumpCandidate? Chosen, IReadOnlyList<JumpCandidate> Candidates,
    int Evaluations, TimeSpan BuildTime, TimeSpan EvaluationTime);

/// <summary>
/// The guard over a grid of candidates: scores W_e once, backs up once every parameter a planned method touches, then
/// for each candidate restores W_e (bit-exact), applies it and scores it. The best-scoring candidate is kept iff its
/// score is at least W_e's minus the tolerance; otherwise W_e comes back bit-for-bit. Without an evaluation the single
/// planned candidate is applied unguarded. Any exception (the caller's evaluation, a method's Apply) restores W_e first.
/// </summary>
internal static class GuardedSelection
{
    public static async ValueTask<SelectionResult> RunAsync(IReadOnlyList<IJumpMethod> methods, IReadOnlyList<PlannedCandidate> plan,
        Func<CancellationToken, ValueTask<double>>? evaluate, double tolerance, bool backupOnCpu, Stopwatch overhead, Action evaluated,
        ILogger logger, CancellationToken cancellationToken)
    {
        var build = new Stopwatch();
        var evaluation = new Stopwatch();
        int evaluations = 0;
        async ValueTask<double> Score()
        {
            evaluation.Start();
            try
            {
                return await evaluate!(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                evaluation.Stop();
                evaluations++;
                evaluated();
            }
        }
        void Building(bool on)
        {
            if (on) { overhead.Start(); build.Start(); }
            else { overhead.Stop(); build.Stop(); }
        }

        double? before = evaluate is null ? null : await Score().ConfigureAwait(false);
        Building(true);
        using var backup = new WeightBackup(plan.Select(c => c.Method).Distinct().SelectMany(i => methods[i].Touches), backupOnCpu);
        Building(false);
        var candidates = new List<JumpCandidate>(plan.Count);
        int best = -1;
        try
        {
            for (int k = 0; k < plan.Count; k++)
            {
                var c = plan[k];
                Building(true);
                if (k > 0) backup.Restore();
                methods[c.Method].Apply(c.Length);
                Building(false);
                double? score = evaluate is null ? null : await Score().ConfigureAwait(false);
                candidates.Add(new JumpCandidate(methods[c.Method].Name, c.Length, c.TargetStep, score));
                if (score is { } s) Log.Candidate(logger, methods[c.Method].Name, c.Length, c.TargetStep, s);
                if (evaluate is null || double.IsFinite(score!.Value) && (best < 0 || score > candidates[best].Score)) best = k;
            }

            bool kept = best >= 0 && (evaluate is null || candidates[best].Score >= before!.Value - tolerance);
            Building(true);
            if (!kept) backup.Restore();
            else if (best != plan.Count - 1)
            {
                // Re-apply on W_e so that the kept weights are exactly what Apply wrote for the best candidate.
                backup.Restore();
                methods[plan[best].Method].Apply(plan[best].Length);
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
