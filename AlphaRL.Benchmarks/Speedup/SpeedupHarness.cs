using System.Diagnostics;
using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Training;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// Runs one cell (regime × algorithm × seed): the full run, the full runs at 3x and 10x the learning rate, stopping at
/// each window, the peers on the full run's checkpoints, and AlphaRL's methods retrained with the hook, each to the
/// full run's final gain or to T steps; then the paper's properties on the full run. Every run lives on the target's
/// device and dtype; checkpoints and the peers' arithmetic are kept in host memory.
/// </summary>
internal sealed class SpeedupHarness(string cacheDirectory, RunTarget target, Action<string> log)
{
    private static readonly double[] ExpoAlphas = [0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8];

    /// <summary>The AlphaRL methods retrained with the hook, by summary name.</summary>
    public static readonly string[] AlphaRlMethods = ["alpharl_rank1", "alpharl_velocity", "alpharl_direction", "alpharl_repeated"];

    /// <param name="regime">The regime.</param>
    /// <param name="algorithm">"grpo" or "ppo".</param>
    /// <param name="seed">The seed.</param>
    /// <param name="advance">Called with the RL steps just trained (progress bars).</param>
    public CellResult RunCell(Regime regime, string algorithm, int seed, Action<int> advance)
    {
        var settings = target.ApplyTo(regime.Settings(algorithm, seed));
        int total = regime.TotalSteps;
        var checkpointSteps = regime.Windows.SelectMany(WindowCheckpoints).ToHashSet();
        var runs = new List<MethodRun>();

        // The full run, with a tracking-only session (the tracker's overhead and the rank-1 trajectory over the whole run).
        using var run = RlRuns.Create(settings, cacheDirectory, log);
        using var w0 = Weights.Of(run.Policy);
        double metric0 = run.ExpectedReward(EvalSplit.Test), accuracy0 = run.Evaluate(EvalSplit.Test);
        var checkpoints = new Dictionary<long, Weights>();
        var cumulativeTrain = new double[total + 1];
        var curve = new List<CurvePoint> { new(0, metric0, accuracy0, 0, 0) };
        IReadOnlyList<string> covered = [];
        FitQuality? trajectory = null;
        var full = RlLoop.Train(run, total, new AlphaRLOptions { Snapshots = { Max = total }, Attempts = { MaxJumps = 0 } },
            onStep: (stats, _) =>
            {
                cumulativeTrain[stats.Step] = cumulativeTrain[stats.Step - 1] + stats.Elapsed.TotalSeconds;
                if (checkpointSteps.Contains(stats.Step)) checkpoints[stats.Step] = Weights.Of(run.Policy);
                if (stats.Step % regime.EvalEvery == 0)
                    curve.Add(new(stats.Step, run.ExpectedReward(EvalSplit.Test), run.Evaluate(EvalSplit.Test), cumulativeTrain[stats.Step], 0));
                advance(1);
            },
            onFinished: session =>
            {
                covered = session.Covered;
                var line = new StepLineExtrapolator { HoldOutFraction = 0.5 };
                trajectory = FitQuality.Combine(covered.Select(m => line.Fit(m, session.Tracker.Snapshots(m)).HoldOut));
            });
        runs.Add(new MethodRun("full", null, curve, [], $"lr {settings.LearningRate:G3}"));
        string cellName = $"{regime.Name} {algorithm} seed {seed}";
        log($"{cellName}: full run, test metric {curve[0].Metric:F4} -> {curve[^1].Metric:F4} in {total} steps ({full.TrainTime.TotalSeconds:F0} s)");
        using var wT = Weights.Of(run.Policy);
        double metricT = curve[^1].Metric, accuracyT = curve[^1].Accuracy;
        double Retention(double m) => (m - metric0) / (metricT - metric0);
        double target100 = metricT;
        (double Metric, double Accuracy) Score(Weights weights, EvalSplit split)
        {
            weights.LoadInto(run.Policy);
            return split == EvalSplit.Test ? (run.ExpectedReward(split), run.Evaluate(split)) : (run.ExpectedReward(split), double.NaN);
        }

        // The paper's properties on the final update.
        var coveredSet = covered.ToHashSet();
        double[] energy = Properties.EnergyShares(w0, wT, covered);
        double Recovery(bool rescaled)
        {
            using var reconstructed = Properties.RankK(w0, wT, coveredSet, 1, rescaled);
            return Retention(Score(reconstructed, EvalSplit.Test).Metric);
        }
        double recoveryRescaled = Recovery(true), recovery = Recovery(false);
        double updateToBase = Properties.RelativeUpdate(w0, wT, covered);

        // Stopping early and the peers, on the full run's checkpoints of each window: one point each, at the window's end.
        foreach (int window in regime.Windows)
        {
            var atS = checkpoints[window];
            var series = WindowCheckpoints(window).Select(s => ((long)s, checkpoints[s])).ToList();
            double trainWall = cumulativeTrain[window];
            MethodRun Point(string name, Weights weights, double buildSeconds, int evaluations, string detail)
            {
                var (m, a) = Score(weights, EvalSplit.Test);
                return new MethodRun(name, window, [new(window, m, a, trainWall + buildSeconds, evaluations)], [], detail);
            }
            runs.Add(Point("no_jump", atS, 0, 0, ""));

            long b = window / 2;
            var clock = Stopwatch.StartNew();
            using (var extrapolated = Peers.WeightExtrapolation(checkpoints[b], b, atS, window, total))
                runs.Add(Point("weight_extrapolation", extrapolated, clock.Elapsed.TotalSeconds, 0, $"B={b}, S={window}"));

            clock.Restart();
            double bestAlpha = 0, bestValidation = double.NegativeInfinity;
            foreach (double alpha in ExpoAlphas)
            {
                using var candidate = Peers.Expo(w0, atS, alpha);
                double validation = Score(candidate, EvalSplit.Validation).Metric;
                if (validation > bestValidation) (bestAlpha, bestValidation) = (alpha, validation);
            }
            using (var expo = Peers.Expo(w0, atS, bestAlpha))
                runs.Add(Point("expo", expo, clock.Elapsed.TotalSeconds, ExpoAlphas.Length, $"alpha={bestAlpha} (validation {bestValidation:F4})"));

            clock.Restart();
            using (var relex = Peers.Relex(w0, series, total))
                runs.Add(Point("relex", relex, clock.Elapsed.TotalSeconds, 0, $"{series.Count} checkpoints"));
        }
        foreach (var c in checkpoints.Values) c.Dispose();
        advance(0);

        // A larger learning rate: what a user would try first.
        foreach (var (name, factor) in new[] { ("full_lr3x", 3.0), ("full_lr10x", 10.0) })
        {
            using var faster = RlRuns.Create(settings with { LearningRate = settings.LearningRate * factor }, cacheDirectory, log);
            runs.Add(Continue(name, null, faster, regime, null, stopAt: target100, advance));
            log($"{cellName}: {name}, test metric {runs[^1].Curve[^1].Metric:F4} after {runs[^1].Curve[^1].Trained} steps");
        }

        // AlphaRL, retrained with the hook: each method from each window, then training on to the full run's gain; in full
        // mode also the velocity method on top of the 3x rate (does AlphaRL still save steps over a larger rate?).
        var plan = AlphaRlMethods.SelectMany(m => (m == "alpharl_repeated" ? [null] : regime.JumpWindows.Select(w => (int?)w)).Select(w => (Name: m, Method: m, Window: w, Rate: 1.0)));
        if (!regime.Quick) plan = plan.Append(("alpharl_velocity_lr3x", "alpharl_velocity", regime.QuarterWindow, 3.0));
        foreach (var (name, method, window, rate) in plan)
        {
            using var accelerated = RlRuns.Create(settings with { LearningRate = settings.LearningRate * rate }, cacheDirectory, log);
            runs.Add(Continue(name, window, accelerated, regime, Options(method, window, regime), stopAt: target100, advance));
            var last = runs[^1];
            log($"{cellName}: {name}{(window is null ? "" : $" window {window}")}, test metric {last.Curve[^1].Metric:F4} (retention {(last.Curve[^1].Metric - metric0) / (metricT - metric0):F2}) after {last.Curve[^1].Trained} steps, {last.Evaluations} evaluations; {last.Detail}");
        }

        var velocity = runs.FirstOrDefault(r => r.Method == "alpharl_velocity" && r.Window == regime.QuarterWindow)?.Jumps.FirstOrDefault();
        var properties = new RegimeProperties(updateToBase, energy.Average(), recoveryRescaled, recovery,
            trajectory?.RelativeError ?? double.NaN, velocity?.VelocityCosine, velocity?.StepNormTrend);
        return new CellResult(regime.Name, algorithm, seed, total, metric0, metricT, accuracy0, accuracyT,
            full.OverheadTime.TotalSeconds / full.TrainTime.TotalSeconds, properties, runs);
    }

    /// <summary>AlphaRL's settings for one of its methods in the benchmark.</summary>
    public static AlphaRLOptions Options(string method, int? window, Regime regime)
    {
        bool uncovered = !regime.Grpo.TrainOnlyCovered;
        // Five snapshots per window (per block for repeated jumps), the attempt at the window's end whatever the rank-1
        // fit says: the guard, not the fit threshold, decides.
        int span = window ?? regime.Block;
        var options = method == "alpharl_rank1" ? AlphaRLOptions.Paper() : new AlphaRLOptions();
        options.Snapshots.Interval = span / Regime.SnapshotsPerWindow;
        options.Attempts.MinSnapshots = options.Snapshots.Max = Regime.SnapshotsPerWindow;
        options.Attempts.FitThreshold = 1e9;
        switch (method)
        {
            case "alpharl_rank1":
                // The paper's method: the rank-1 line of every covered matrix, one jump to T, guarded by before/after.
                options.Jumps.TargetStep = regime.TotalSteps;
                break;
            case "alpharl_direction":
                options.Jumps.Methods = [new DirectionJumpOptions { IncludeUncovered = uncovered }];
                break;
            default:
                // The library's default method and grid: per-weight velocity, lengths 0 to 8 windows; a first window
                // leaves the snapshots of the learning-rate warm-up out of the slope.
                int warmup = window is null ? 0 : regime.Grpo.WarmupSteps / options.Snapshots.Interval;
                options.Jumps.Methods = [new VelocityJumpOptions { IncludeUncovered = uncovered, SkipSnapshots = warmup }];
                break;
        }
        if (method == "alpharl_repeated")
        {
            // RL-Extra's alternation, guarded: every block, jump a multiple of the block's own velocity if validation improves.
            options.Attempts.Schedule = JumpSchedule.Repeated;
            options.Attempts.MaxJumps = regime.TotalSteps;
        }
        return options;
    }

    /// <summary>
    /// Trains <paramref name="run"/> (with AlphaRL when <paramref name="options"/> is set, the guard scoring the
    /// validation metric), measuring the test metric every EvalEvery steps and after every jump, until T steps are
    /// trained or, when <paramref name="stopAt"/> is set, the metric has reached it and 40% of T is trained.
    /// </summary>
    private static MethodRun Continue(string name, int? window, RlRun run, Regime regime, AlphaRLOptions? options, double? stopAt, Action<int> advance)
    {
        int total = regime.TotalSteps;
        var curve = new List<CurvePoint> { new(0, run.ExpectedReward(EvalSplit.Test), run.Evaluate(EvalSplit.Test), 0, 0) };
        var jumps = new List<JumpRecord>();
        using var session = options is null ? null : AlphaRL.Accelerate(run.Policy, options);
        double train = 0;
        bool reached = false;
        double Wall() => train + (session is null ? 0 : session.OverheadTime.TotalSeconds + session.Jumps.Sum(j => j.EvaluationTime.TotalSeconds));
        int Evaluations() => (int)(session?.Evaluations ?? 0);
        for (int step = 1; step <= total; step++)
        {
            var stats = run.TrainStep();
            train += stats.Elapsed.TotalSeconds;
            advance(1);
            var outcome = session?.Step(step, () => run.ExpectedReward(EvalSplit.Validation));
            if (outcome?.Jump is { } j)
            {
                if (j.Kept) run.ResetOptimizerState();
                double after = run.ExpectedReward(EvalSplit.Test);
                var d = j.Diagnostics;
                jumps.Add(new JumpRecord(j.TrainedStep, j.FromStep, j.TargetStep, j.Kept, j.Method, j.Length, j.ScoreBefore, j.ScoreAfter, j.Evaluations,
                    after, d?.StepNormTrend, d?.VelocityCosine, d?.Rank1EnergyShare, d?.HeldOutFitError));
                if (j.Kept) curve.Add(new(step, after, run.Evaluate(EvalSplit.Test), Wall(), Evaluations()));
            }
            if (step % regime.EvalEvery == 0 && outcome?.Action != StepAction.JumpKept)
                curve.Add(new(step, run.ExpectedReward(EvalSplit.Test), run.Evaluate(EvalSplit.Test), Wall(), Evaluations()));
            reached |= stopAt is { } t && curve[^1].Metric >= t;
            if (reached && step >= 0.4 * total && step % regime.EvalEvery == 0)
            {
                advance(total - step);
                break;
            }
        }
        var kept = jumps.Where(j => j.Kept).ToList();
        string detail = session is null ? $"lr {run.Settings.LearningRate:G3}"
            : kept.Count == 0 ? $"no jump kept ({jumps.Count} tried)"
            : string.Join("; ", kept.Take(3).Select(k => $"{k.Method} j={k.Length:G3}: {k.FromStep}->{k.TargetStep} at step {k.TrainedStep}, validation {k.ValidationBefore:F4}->{k.ValidationAfter:F4}"))
              + (kept.Count > 3 ? $"; {kept.Count - 3} more kept" : "") + $" ({jumps.Count - kept.Count} rejected or skipped)";
        return new MethodRun(name, window, curve, jumps, detail);
    }

    /// <summary>The full-run checkpoints a window needs: its snapshot steps (RELEX) and its midpoint (weight extrapolation).</summary>
    public static IEnumerable<int> WindowCheckpoints(int window) =>
        Enumerable.Range(1, Regime.SnapshotsPerWindow).Select(i => i * window / Regime.SnapshotsPerWindow).Append(window / 2).Distinct().Order();
}
