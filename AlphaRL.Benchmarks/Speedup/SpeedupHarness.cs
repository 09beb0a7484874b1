using System.Diagnostics;
using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Training;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>One experiment: an RL setting, its seeds, its length T and the early windows AlphaRL and the peers get.</summary>
/// <remarks>Regime experiments (<paramref name="Main"/> false) skip the AlphaRL retraining runs: they report the properties, the
/// peers and AlphaRL's offline prediction on the full run only.</remarks>
internal sealed record Experiment(string Name, RlRunSettings Settings, int[] Seeds, int TotalSteps, int[] Windows, bool Main)
{
    /// <summary>Snapshots AlphaRL takes in each window.</summary>
    public const int SnapshotsPerWindow = 5;

    public int EvalEvery => Math.Max(1, TotalSteps / 20);

    public ExperimentRecord Record => new(Name, Settings.Algorithm, Settings.Task, Settings.LearningRate, Settings.Width, Settings.Layers,
        Settings.PromptsPerStep, Settings.SamplesPerPrompt, Settings.Epochs, TotalSteps, Windows, Seeds, Main);
}

/// <summary>
/// Runs one seed of an experiment: the full RL run (with a tracking-only AlphaRL session, for the tracker's overhead and
/// the rank-1 trajectory), AlphaRL runs for each window, the peers on the full run's checkpoints, and the paper's two
/// properties on the final update.
/// </summary>
internal sealed class SpeedupHarness(string cacheDirectory, Action<string> log)
{
    private static readonly double[] ExpoAlphas = [0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8];

    /// <param name="experiment">What to run.</param>
    /// <param name="seed">Which seed.</param>
    /// <param name="advance">Called with the number of RL steps just trained (for progress bars).</param>
    public SeedResult RunSeed(Experiment experiment, int seed, Action<int> advance)
    {
        var settings = experiment.Settings with { Seed = seed };
        int total = experiment.TotalSteps;
        var checkpointSteps = experiment.Windows.SelectMany(WindowSteps).ToHashSet();
        using var run = RlRuns.Create(settings, cacheDirectory, log);
        using var w0 = Weights.Of(run.Policy);
        double acc0 = run.Evaluate(EvalSplit.Test);

        // The full run: T steps, test accuracy every EvalEvery steps, host copies of the weights the windows need.
        var checkpoints = new Dictionary<long, Weights>();
        var cumulativeTrain = new double[total + 1];
        var curve = new List<CurvePoint> { new(0, acc0) };
        IReadOnlyList<string> covered = [];
        FitQuality? trajectory = null;
        var tracking = new AlphaRLOptions { MaxJumps = 0, MaxSnapshots = total };
        var full = RlLoop.Train(run, total, tracking,
            onStep: (stats, _) =>
            {
                cumulativeTrain[stats.Step] = cumulativeTrain[stats.Step - 1] + stats.Elapsed.TotalSeconds;
                if (checkpointSteps.Contains(stats.Step)) checkpoints[stats.Step] = Weights.Of(run.Policy);
                if (stats.Step % experiment.EvalEvery == 0) curve.Add(new(stats.Step, run.Evaluate(EvalSplit.Test)));
                advance(1);
            },
            onFinished: session =>
            {
                covered = session.Covered;
                // Out-of-sample error of the rank-1 trajectory over the whole run: fit a line on the first half, predict the second.
                var line = new StepLineExtrapolator { HoldOutFraction = 0.5 };
                trajectory = FitQuality.Combine(covered.Select(m => line.Fit(m, session.Tracker.Snapshots(m)).HoldOut));
            });
        using var wT = Weights.Of(run.Policy);
        double accT = run.Evaluate(EvalSplit.Test);
        double Retention(double acc) => (acc - acc0) / (accT - acc0);
        double Score(Weights weights, EvalSplit split)
        {
            weights.LoadInto(run.Policy);
            return run.Evaluate(split);
        }

        // The paper's properties on the final update.
        var coveredSet = covered.ToHashSet();
        double[] energy = Properties.EnergyShares(w0, wT, covered);
        var rankK = new List<RankRecovery>();
        foreach (int k in new[] { 1, 2, 4, 0 })
            foreach (bool rescaled in k == 0 ? new[] { false } : new[] { true, false })
            {
                using var reconstructed = Properties.RankK(w0, wT, coveredSet, k, rescaled);
                double acc = Score(reconstructed, EvalSplit.Test);
                rankK.Add(new RankRecovery(k == 0 ? "full" : k.ToString(System.Globalization.CultureInfo.InvariantCulture), rescaled, acc, Retention(acc)));
            }

        // Peers and the no-jump baseline on the full run's checkpoints of each window.
        var methods = new List<MethodResult>();
        foreach (int window in experiment.Windows)
        {
            var steps = WindowSteps(window).ToList();
            var series = steps.Select(s => ((long)s, checkpoints[s])).ToList();
            var atS = checkpoints[window];
            double trainWall = cumulativeTrain[window];
            MethodResult Peer(string name, Weights weights, double buildSeconds, string detail)
            {
                double acc = Score(weights, EvalSplit.Test);
                return new MethodResult(name, window, window, (double)total / window, trainWall + buildSeconds,
                    full.TrainTime.TotalSeconds / (trainWall + buildSeconds), acc, Retention(acc), detail);
            }
            methods.Add(Peer("no_jump", atS, 0, ""));

            long b = steps[steps.Count / 2 - 1];
            var clock = Stopwatch.StartNew();
            using (var extrapolated = Peers.WeightExtrapolation(checkpoints[b], b, atS, window, total))
                methods.Add(Peer("weight_extrapolation", extrapolated, clock.Elapsed.TotalSeconds, $"B={b}, S={window}"));

            clock.Restart();
            double bestAlpha = 0, bestValidation = double.NegativeInfinity;
            foreach (double alpha in ExpoAlphas)
            {
                using var candidate = Peers.Expo(w0, atS, alpha);
                double validation = Score(candidate, EvalSplit.Validation);
                if (validation > bestValidation) (bestAlpha, bestValidation) = (alpha, validation);
            }
            using (var expo = Peers.Expo(w0, atS, bestAlpha))
                methods.Add(Peer("expo", expo, clock.Elapsed.TotalSeconds, $"alpha={bestAlpha} (validation {bestValidation:F3})"));

            clock.Restart();
            var (offline, offlineFit) = Peers.AlphaRlOffline(w0, series, coveredSet, total);
            using (offline)
                methods.Add(Peer("alpharl_offline", offline, clock.Elapsed.TotalSeconds, $"fit error {offlineFit.RelativeError:F3} (cos {offlineFit.Cosine:F3}), unguarded"));

            clock.Restart();
            using (var relex = Peers.Relex(w0, series, total))
                methods.Add(Peer("relex", relex, clock.Elapsed.TotalSeconds, $"{steps.Count} checkpoints"));
        }
        foreach (var c in checkpoints.Values) c.Dispose();

        // AlphaRL runs: the same seed retrained with the hook, one per window.
        var alphaRuns = new List<AlphaRlRunRecord>();
        foreach (int window in experiment.Main ? experiment.Windows : [])
        {
            using var accelerated = RlRuns.Create(settings, cacheDirectory, log);
            int interval = window / Experiment.SnapshotsPerWindow;
            var options = new AlphaRLOptions
            {
                SnapshotInterval = interval, MinSnapshots = Experiment.SnapshotsPerWindow, MaxSnapshots = Experiment.SnapshotsPerWindow,
                TargetStep = total, MaxJumps = 1,
            };
            var runCurve = new List<CurvePoint> { new(0, acc0) };
            var jumps = new List<JumpRecord>();
            var result = RlLoop.Train(accelerated, total, options, onStep: (stats, outcome) =>
            {
                advance(1);
                if (outcome?.Jump is { } j)
                {
                    double after = accelerated.Evaluate(EvalSplit.Test);
                    jumps.Add(new JumpRecord(j.TrainedStep, j.FromStep, j.TargetStep, j.Kept, j.ScoreBefore, j.ScoreAfter, j.Fit.RelativeError, j.Fit.Cosine, after));
                }
                if (stats.Step % experiment.EvalEvery == 0 && outcome?.Action != StepAction.JumpKept)
                    runCurve.Add(new(stats.Step, accelerated.Evaluate(EvalSplit.Test)));
            });
            double acc = accelerated.Evaluate(EvalSplit.Test);
            var kept = result.Jumps.FirstOrDefault(j => j.Kept);
            string detail = kept is null
                ? $"no jump kept ({result.Jumps.Count} rejected)"
                : $"jumped {kept.FromStep}->{kept.TargetStep} at trained step {kept.TrainedStep}, fit error {kept.Fit.RelativeError:F3}, validation {kept.ScoreBefore:F3}->{kept.ScoreAfter:F3}";
            methods.Add(new MethodResult("alpharl", window, result.StepsTrained, (double)total / result.StepsTrained, result.WallTime.TotalSeconds,
                full.TrainTime.TotalSeconds / result.WallTime.TotalSeconds, acc, Retention(acc), detail));
            alphaRuns.Add(new AlphaRlRunRecord(window, interval, runCurve, jumps));
            advance(total - result.StepsTrained);
        }

        return new SeedResult(experiment.Name, settings.Algorithm, seed, total, acc0, accT, full.TrainTime.TotalSeconds,
            full.OverheadTime.TotalSeconds / full.TrainTime.TotalSeconds, curve,
            energy.Average(), energy.Min(), energy.Max(), rankK,
            trajectory?.RelativeError ?? double.NaN, trajectory?.Cosine ?? double.NaN, methods, alphaRuns);
    }

    /// <summary>The snapshot steps of a window of <paramref name="window"/> steps: evenly spaced, ending at the window's end.</summary>
    public static IEnumerable<int> WindowSteps(int window)
    {
        int interval = window / Experiment.SnapshotsPerWindow;
        return Enumerable.Range(1, Experiment.SnapshotsPerWindow).Select(i => i * interval);
    }
}
