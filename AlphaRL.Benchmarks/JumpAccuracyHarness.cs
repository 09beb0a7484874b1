using System.Diagnostics;
using System.Text.Json;
using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Tracking;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// How far the rank-1 jump's predicted weights move when the snapshots come from the tracker's default routine
/// (warm-started, a fixed pass budget) instead of an exact SVD (torch.linalg.svd in float64), relative to the jump's
/// own correction: ‖W_pred,tracker − W_pred,exact‖ / ‖W_pred,exact − W_e‖, pooled over the covered matrices. On the
/// llm-like elicitation run of the speedup benchmark (windows 25, 50, 75; five snapshots each; targets 3e and 8e) and
/// on synthetic trajectories with small and large s2/s1 gaps. Also times <see cref="TorchSubspaceTracker.Observe"/>
/// against the run's training steps (the tracker's overhead share at the default snapshot interval).
/// Writes <c>jump-accuracy.json</c>.
/// </summary>
internal static class JumpAccuracyHarness
{
    private static readonly int[] Windows = [25, 50, 75];

    private static readonly double[] TargetMultiples = [3, 8];

    /// <summary>The pass budgets compared (0 = iterate to the tolerance from the warm start too).</summary>
    private static readonly int[] Budgets = [1, 2, 3, 0];

    public static int Run(string outputPath, string cacheDirectory)
    {
        var defaults = PowerIterationOptions.Default;
        var trajectories = new List<(string Name, IReadOnlyList<CoveredMatrix> Covered, Dictionary<long, List<Tensor>> Saved, IDisposable? Owner)>();
        var (llmCovered, llmSaved, run, observe, observeConverged, step) = LlmLike(cacheDirectory, defaults);
        trajectories.Add(("elicit-lr1e-6 elicit2 d128 GRPO seed 1", llmCovered, llmSaved, run));
        foreach (double gap in new[] { 0.3, 0.8, 0.95 })
            foreach (double turn in new[] { 0.05, 0.3 })
                trajectories.Add(Synthetic(gap, turn));
        var rows = new List<object>();
        double defaultWorst = 0;
        foreach (int budget in Budgets)
        {
            var options = new PowerIterationOptions { WarmPasses = budget };
            foreach (var (name, covered, saved, _) in trajectories)
            {
                var c = Compare(covered, saved, options);
                Console.WriteLine($"WarmPasses {budget}: {name,-48} jump error vs exact SVD: pooled {c.Pooled:P3}, worst matrix {c.Worst:P3}");
                rows.Add(new { warm_passes = budget, trajectory = name, pooled = c.Pooled, worst_matrix = c.Worst });
                if (budget == defaults.WarmPasses) defaultWorst = Math.Max(defaultWorst, c.Pooled);
            }
        }
        foreach (var (_, _, saved, owner) in trajectories)
        {
            foreach (var list in saved.Values) foreach (var t in list) t.Dispose();
            owner?.Dispose();
        }
        int interval = new AlphaRLOptions().Snapshots.Interval;
        double share = observe / (interval * step);
        Console.WriteLine($"Default (WarmPasses {defaults.WarmPasses}): worst pooled jump error {defaultWorst:P3}");
        Console.WriteLine($"Tracker overhead: Observe {observe * 1e3:F2} ms (median) vs training step {step * 1e3:F1} ms (median); share at one snapshot per {interval} steps: {share:P4}; converging each snapshot instead: Observe {observeConverged * 1e3:F2} ms, share {observeConverged / (interval * step):P4}");
        var json = new
        {
            command = "dotnet run -c Release --project AlphaRL.Benchmarks -- jump-accuracy",
            definition = "||W_pred(tracker snapshots) - W_pred(exact SVD snapshots)|| / ||W_pred(exact) - W_e||, rank-1 line jump (Increment form, step-line fit), pooled over covered matrices, worst over windows 25/50/75 and targets 3e/8e",
            default_warm_passes = defaults.WarmPasses,
            jump_error_vs_exact_svd = defaultWorst,
            cases = rows,
            observe_seconds_median = observe,
            train_step_seconds_median = step,
            snapshot_interval = interval,
            tracker_overhead_share = share,
            observe_converged_seconds_median = observeConverged,
            tracker_overhead_share_converged = observeConverged / (interval * step),
        };
        File.WriteAllText(outputPath, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"Wrote {outputPath}");
        return 0;
    }

    private sealed record Case(double Pooled, double Worst);

    /// <summary>The llm-like regime's GRPO run (seed 1), its covered matrices saved every 5 steps up to step 75, with
    /// the median time of the session's tracker's Observe (at the default interval), of the same snapshot converged to
    /// the tolerance, and of a training step.</summary>
    private static (IReadOnlyList<CoveredMatrix>, Dictionary<long, List<Tensor>>, IDisposable, double, double, double) LlmLike(string cacheDirectory, PowerIterationOptions options)
    {
        var settings = Speedup.Regime.Plan(quick: true).First(r => r.Name == "elicit-lr1e-6").Settings("grpo", 1);
        var run = RlRuns.Create(settings, cacheDirectory, Console.WriteLine);
        var covered = ParameterCoverage.Select(run.Policy, new CoverageOptions()).Covered;
        var saved = new Dictionary<long, List<Tensor>>();
        var stepTimes = new List<double>();
        var observeTimes = new List<double>();
        var convergedTimes = new List<double>();
        using (var timing = new TorchSubspaceTracker(covered, powerIteration: options))
        using (var converged = new TorchSubspaceTracker(covered, powerIteration: PowerIterationOptions.Converged))
        {
            saved[0] = Save(covered);
            int interval = new AlphaRLOptions().Snapshots.Interval;
            for (int step = 1; step <= Windows[^1]; step++)
            {
                var stats = run.TrainStep();
                stepTimes.Add(stats.Elapsed.TotalSeconds);
                if (step % 5 == 0) saved[step] = Save(covered);
                if (step % interval == 0)
                {
                    var clock = Stopwatch.StartNew();
                    timing.Observe(step);
                    observeTimes.Add(clock.Elapsed.TotalSeconds);
                    // The same snapshot converged to the tolerance (the routine before the pass budget), for comparison.
                    clock.Restart();
                    converged.Observe(step);
                    convergedTimes.Add(clock.Elapsed.TotalSeconds);
                }
            }
        }
        // The first Observe is a cold start; the rest are the warm snapshots the session takes.
        return (covered, saved, run, Median(observeTimes.Skip(1).ToList()), Median(convergedTimes.Skip(1).ToList()), Median(stepTimes));
    }

    /// <summary>
    /// A synthetic trajectory: dW_t = a(t) x1(t) v1(t)ᵀ + gap·a(t) x2 v2ᵀ + noise on a 384×256 matrix, x1 growing along a
    /// slightly curved line, v1 turning by <paramref name="turn"/> radians over 75 steps, s2/s1 = <paramref name="gap"/>.
    /// </summary>
    private static (string, IReadOnlyList<CoveredMatrix>, Dictionary<long, List<Tensor>>, IDisposable) Synthetic(double gap, double turn)
    {
        const int rows = 384, cols = 256;
        var random = new Random(17);
        float[] Unit(int n) { var x = new float[n]; for (int i = 0; i < n; i++) x[i] = Gaussian(random); double s = Math.Sqrt(x.Sum(y => (double)y * y)); return x.Select(y => (float)(y / s)).ToArray(); }
        float[] x1 = Unit(rows), b1 = Unit(rows), x2 = Unit(rows), v1 = Unit(cols), w1 = Unit(cols), v2 = Unit(cols);
        var w0 = Enumerable.Range(0, rows * cols).Select(_ => 0.02f * Gaussian(random)).ToArray();
        var noise = Enumerable.Range(0, rows * cols).Select(_ => Gaussian(random)).ToArray();
        var parameter = new Parameter(tensor(w0).reshape(rows, cols), requires_grad: false);
        var covered = new[] { new CoveredMatrix("synthetic", parameter) };
        var saved = new Dictionary<long, List<Tensor>>();
        for (int step = 0; step <= Windows[^1]; step += 5)
        {
            double t = step / 75.0, angle = turn * t, a = 0.5 * t + 0.2 * t * t;
            var w = new float[rows * cols];
            for (int i = 0; i < rows; i++)
            {
                float c1 = (float)(a * (x1[i] + 0.3 * t * b1[i])), c2 = (float)(gap * a * x2[i]);
                for (int j = 0; j < cols; j++)
                {
                    float v = (float)(Math.Cos(angle) * v1[j] + Math.Sin(angle) * w1[j]);
                    w[i * cols + j] = w0[i * cols + j] + c1 * v + c2 * v2[j] + (float)(1e-3 * Math.Sqrt(t)) * noise[i * cols + j];
                }
            }
            saved[step] = [tensor(w).reshape(rows, cols)];
        }
        return ($"synthetic 384x256 s2/s1 {gap:G2}, v turns {turn:G2} rad", covered, saved, parameter);
    }

    /// <summary>For each window: the tracker's snapshots (the saved weights written into the live parameters and
    /// observed in order, as the session would) against exact-SVD snapshots, both fitted by the session's default line
    /// extrapolator and jumped to 3e and 8e. Returns the worst pooled and worst single-matrix relative difference.</summary>
    private static Case Compare(IReadOnlyList<CoveredMatrix> covered, Dictionary<long, List<Tensor>> saved, PowerIterationOptions options)
    {
        var current = Save(covered);
        double pooledWorst = 0, matrixWorst = 0;
        var extrapolator = new StepLineExtrapolator { HoldOutFraction = new AlphaRLOptions().Attempts.HoldOutFraction };
        foreach (int window in Windows)
        {
            var steps = Enumerable.Range(1, 5).Select(i => (long)(i * window / 5)).ToList();
            Restore(covered, saved[0]);
            using var tracker = new TorchSubspaceTracker(covered, powerIteration: options);
            var exact = new SubspaceTracker();
            foreach (long step in steps)
            {
                Restore(covered, saved[step]);
                tracker.Observe(step);
                for (int m = 0; m < covered.Count; m++)
                    exact.Record(covered[m].Name, step, ExactTriplet(saved[step][m], saved[0][m]));
            }
            foreach (double multiple in TargetMultiples)
            {
                double differenceSquared = 0, correctionSquared = 0;
                foreach (var m in covered)
                {
                    var (c1, v1) = Correction(extrapolator, m.Name, tracker.Snapshots(m.Name), (long)(multiple * window));
                    var (c2, v2) = Correction(extrapolator, m.Name, exact.Snapshots(m.Name), (long)(multiple * window));
                    // ‖c1 v1ᵀ − c2 v2ᵀ‖² = ‖c1‖²‖v1‖² + ‖c2‖²‖v2‖² − 2 (c1·c2)(v1·v2).
                    double d = Dot(c1, c1) * Dot(v1, v1) + Dot(c2, c2) * Dot(v2, v2) - 2 * Dot(c1, c2) * Dot(v1, v2);
                    double own = Dot(c2, c2) * Dot(v2, v2);
                    differenceSquared += Math.Max(d, 0);
                    correctionSquared += own;
                    if (own > 0) matrixWorst = Math.Max(matrixWorst, Math.Sqrt(Math.Max(d, 0) / own));
                }
                pooledWorst = Math.Max(pooledWorst, Math.Sqrt(differenceSquared / correctionSquared));
            }
        }
        Restore(covered, current);
        foreach (var t in current) t.Dispose();
        return new Case(pooledWorst, matrixWorst);
    }

    private static (float[] C, float[] V) Correction(IExtrapolator extrapolator, string matrix, IReadOnlyList<Rank1Snapshot> snapshots, long target)
    {
        var fit = extrapolator.Fit(matrix, snapshots);
        return (Rank1Jump.Coefficients(fit, extrapolator.Predict(fit, target), JumpForm.Increment), fit.LastV);
    }

    private static SingularTriplet ExactTriplet(Tensor current, Tensor initial)
    {
        using var scope = NewDisposeScope();
        var update = current.to(ScalarType.Float64) - initial.to(ScalarType.Float64);
        var (u, s, vh) = linalg.svd(update, fullMatrices: false);
        float[] Host(Tensor t) => t.to(ScalarType.Float32).contiguous().data<float>().ToArray();
        return new SingularTriplet((float)s[0].item<double>(), Host(u[.., 0]), Host(vh[0]), 0, true);
    }

    private static List<Tensor> Save(IReadOnlyList<CoveredMatrix> covered)
    {
        using var noGrad = no_grad();
        return covered.Select(m => m.Parameter.detach().clone().DetachFromDisposeScope()).ToList();
    }

    private static void Restore(IReadOnlyList<CoveredMatrix> covered, List<Tensor> values)
    {
        using var noGrad = no_grad();
        for (int i = 0; i < covered.Count; i++) covered[i].Parameter.copy_(values[i]);
    }

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static float Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
