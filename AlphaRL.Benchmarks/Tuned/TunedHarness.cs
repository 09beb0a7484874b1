using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlphaRl.Benchmarks.Speedup;
using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Evaluation;
using Curve = AlphaRl.Workloads.Evaluation.Curve;
using AlphaRl.Workloads.Tasks;
using AlphaRl.Workloads.Training;

namespace AlphaRl.Benchmarks.Tuned;

/// <summary>
/// One run of the tuned-baseline benchmark: a regime, an algorithm, a seed, a learning-rate multiple, and either plain
/// training (<c>train</c>) or an AlphaRL method stacked on that rate from a window of <see cref="WindowShare"/> of T.
/// </summary>
internal sealed record RunSpec(string Regime, string Algorithm, int Seed, double Multiple, string Method, double? WindowShare)
{
    /// <summary>The run's file name in the run cache.</summary>
    [JsonIgnore]
    public string FileName => FormattableString.Invariant($"{Regime}-{Algorithm}-s{Seed}-x{Multiple:G}-{Method}{(WindowShare is { } w ? $"-w{w * 100:F0}" : "")}.json");

    public override string ToString() =>
        FormattableString.Invariant($"{Regime} {Algorithm} seed {Seed} {Multiple:G}x {Method}{(WindowShare is { } w ? $" window {w:P0}" : "")}");
}

/// <summary>One measurement: after <c>Trained</c> RL steps, the quality and its two parts on the test prompts.</summary>
/// <param name="Trained">RL steps trained (jumps add a point at their step).</param>
/// <param name="Quality">The regime's quality.</param>
/// <param name="Task">Exact expected reward on the test prompts in format U (the task).</param>
/// <param name="Retained">Exact expected reward on the same pairs in format C (the base's other skill).</param>
/// <param name="WallSeconds">RL steps, AlphaRL's overhead and the guard's evaluations so far (not the benchmark's own test measurements).</param>
/// <param name="Evaluations">Guard evaluations so far (each a forward pass over the validation prompts in both formats).</param>
internal sealed record TunedPoint(int Trained, double Quality, double Task, double Retained, double WallSeconds, int Evaluations);

/// <summary>
/// One jump an AlphaRL run tried, with the diagnostics of its window and the test rewards (task, format C) of the
/// weights before the attempt and after it (the kept candidate, or the restored weights).
/// </summary>
internal sealed record TunedJump(long TrainedStep, long FromStep, long TargetStep, bool Kept, string? Method, double? Length,
    double? ValidationBefore, double? ValidationAfter, int Evaluations, double TestQualityAfter,
    double? TaskBefore, double? RetainedBefore, double? TaskAfter, double? RetainedAfter,
    double? VelocityCosine, double? StepNormTrend, double? Rank1EnergyShare, double? FitError);

/// <summary>The paper's properties on a trained run's final update.</summary>
/// <param name="UpdateToBase">‖dW‖_F / ‖W0‖_F of the covered matrices at T.</param>
/// <param name="EnergyShare">Mean s1² / ‖dW‖_F² over the covered matrices at T.</param>
/// <param name="Rank1Recovery">Quality gain of W0 + the rank-1 part of dW rescaled to ‖dW‖ (covered matrices; the rest at W_T) over the run's gain.</param>
/// <param name="TrajectoryFitError">Held-out relative error of a rank-1 line fitted on the first half of the run's snapshots (every 10 steps), predicting the second half.</param>
internal sealed record RunProperties(double UpdateToBase, double EnergyShare, double Rank1Recovery, double TrajectoryFitError);

/// <summary>Everything one run measured.</summary>
internal sealed record RunRecord(RunSpec Spec, double LearningRate, int RolloutsPerStep, int ValidationPromptsPerEvaluation,
    IReadOnlyList<TunedPoint> Points, IReadOnlyList<TunedJump> Jumps, RunProperties? Properties, double Seconds, string Detail)
{
    /// <summary>The quality curve.</summary>
    public Curve Quality() => Curve.Of(Points.Select(p => (p.Trained, p.Quality)));

    /// <summary>Guard evaluations spent.</summary>
    public int Evaluations => Points[^1].Evaluations;
}

/// <summary>
/// Runs (or reads back) the benchmark's runs. Each finished run is written to its own JSON file in the run cache, so
/// the full benchmark can be stopped and resumed in chunks, and the report assembled from whatever is there.
/// </summary>
internal sealed class TunedHarness(string runsDirectory, string modelCacheDirectory, RunTarget target, Action<string> log)
{
    /// <summary>The jump lengths AlphaRL tries, in windows: doubling until far beyond T for every window (32 windows of 5% is 1.6 T).</summary>
    public static readonly double[] JumpLengths = [0, 0.5, 1, 2, 4, 8, 16, 32];

    // Records read or written so far: a record never changes once written, and the report asks for most of them many times.
    private readonly Dictionary<string, RunRecord> _read = new(StringComparer.Ordinal);

    /// <summary>The cached record of <paramref name="spec"/>, if it has run.</summary>
    public RunRecord? Cached(RunSpec spec)
    {
        if (_read.TryGetValue(spec.FileName, out var known)) return known;
        string path = Path.Combine(runsDirectory, spec.FileName);
        if (!File.Exists(path)) return null;
        var record = JsonSerializer.Deserialize<RunRecord>(File.ReadAllText(path), SpeedupReport.Json)
            ?? throw new InvalidDataException($"{path} holds no run record.");
        return _read[spec.FileName] = TunedRegime.Named(spec.Regime).Rescored(record);
    }

    /// <summary>The run's record: from the cache, or run now and cached.</summary>
    public RunRecord GetOrRun(TunedRegime regime, RunSpec spec, Action<int> advance)
    {
        if (Cached(spec) is { } cached)
        {
            advance(regime.TotalSteps);
            return cached;
        }
        var record = Run(regime, spec, advance);
        Directory.CreateDirectory(runsDirectory);
        SpeedupReport.WriteAtomically(Path.Combine(runsDirectory, spec.FileName), JsonSerializer.Serialize(record, SpeedupReport.Json));
        _read[spec.FileName] = TunedRegime.Named(spec.Regime).Rescored(record);
        var last = record.Points[^1];
        log(FormattableString.Invariant($"{spec}: quality {record.Points[0].Quality:F4} -> {last.Quality:F4} (task {last.Task:F4}, format C {last.Retained:F4}) in {last.Trained} steps, {record.Seconds:F0} s; {record.Detail}"));
        return record;
    }

    private RunRecord Run(TunedRegime regime, RunSpec spec, Action<int> advance)
    {
        var clock = Stopwatch.StartNew();
        var settings = target.ApplyTo(regime.Settings(spec.Algorithm, spec.Seed, spec.Multiple));
        int total = regime.TotalSteps;
        using var run = RlRuns.Create(settings, modelCacheDirectory, log);
        var probe = new QualityProbe(run, regime);
        using var w0 = spec.Method == "train" ? Weights.Of(run.Policy) : null;
        var options = spec.Method == "train"
            ? new AlphaRLOptions { Snapshots = { Max = total }, Attempts = { MaxJumps = 0 } } // tracking only: the rank-1 trajectory for the properties
            : Options(regime, spec);
        using var session = AlphaRL.Accelerate(run.Policy, options);

        var curve = new List<TunedPoint>();
        var jumps = new List<TunedJump>();
        double train = 0;
        double Wall() => train + session.OverheadTime.TotalSeconds + session.Jumps.Sum(j => j.EvaluationTime.TotalSeconds);
        TunedPoint Point(int step) => probe.Measure(step, Wall(), (int)session.Evaluations);
        curve.Add(Point(0));
        int windowEnd = spec.WindowShare is { } share ? (int)Math.Round(share * total) : -1;
        TunedPoint? beforeJump = null;
        for (int step = 1; step <= total; step++)
        {
            var stats = run.TrainStep();
            train += stats.Elapsed.TotalSeconds;
            advance(1);
            // The weights the first attempt starts from, measured before it (not counted as AlphaRL's time or evaluations).
            if (step == windowEnd) beforeJump = Point(step);
            var outcome = session.Step(step, () => probe.Validation());
            if (outcome.Jump is { } j)
            {
                if (j.Kept) run.ResetOptimizerState();
                var after = Point(step);
                var d = j.Diagnostics;
                jumps.Add(new TunedJump(j.TrainedStep, j.FromStep, j.TargetStep, j.Kept, j.Method, j.Length, j.ScoreBefore, j.ScoreAfter, j.Evaluations,
                    after.Quality, beforeJump?.Task, beforeJump?.Retained, after.Task, after.Retained, d?.VelocityCosine, d?.StepNormTrend, d?.Rank1EnergyShare, d?.HeldOutFitError));
                if (j.Kept)
                {
                    curve.Add(after);
                    continue;
                }
            }
            if (step % TunedRegime.EvalEvery == 0) curve.Add(Point(step));
        }

        RunProperties? properties = null;
        if (w0 is not null)
        {
            using var wT = Weights.Of(run.Policy);
            var covered = session.Covered;
            var line = new StepLineExtrapolator { HoldOutFraction = 0.5 };
            var trajectory = FitQuality.Combine(covered.Select(m => line.Fit(m, session.Tracker.Snapshots(m)).HoldOut));
            double energy = Properties.EnergyShares(w0, wT, covered).Average();
            double gain = curve[^1].Quality - curve[0].Quality;
            double rank1;
            using (var reconstructed = Properties.RankK(w0, wT, covered.ToHashSet(), 1, rescale: true))
            {
                reconstructed.LoadInto(run.Policy);
                rank1 = (probe.Measure(total, 0, 0).Quality - curve[0].Quality) / gain;
            }
            wT.LoadInto(run.Policy);
            properties = new RunProperties(Properties.RelativeUpdate(w0, wT, covered), energy, rank1, trajectory.RelativeError);
        }
        var kept = jumps.Where(j => j.Kept).ToList();
        string detail = spec.Method == "train" ? FormattableString.Invariant($"lr {settings.LearningRate:G3}")
            : kept.Count == 0 ? $"no jump kept ({jumps.Count} tried)"
            : string.Join("; ", kept.Select(k => FormattableString.Invariant($"j={k.Length:G3}: {k.FromStep}->{k.TargetStep} at step {k.TrainedStep}, validation {k.ValidationBefore:F4}->{k.ValidationAfter:F4}")));
        return new RunRecord(spec, settings.LearningRate, settings.PromptsPerStep * settings.SamplesPerPrompt, 2 * settings.ValidationSize,
            curve, jumps, properties, clock.Elapsed.TotalSeconds, detail);
    }

    /// <summary>
    /// AlphaRL's settings for a stacked run: five snapshots over the window, the attempt at the window's end whatever the
    /// rank-1 fit says (the guard decides), the doubling length grid, one kept jump; the velocity's slope leaves out the
    /// snapshots of the learning-rate warm-up.
    /// </summary>
    public static AlphaRLOptions Options(TunedRegime regime, RunSpec spec)
    {
        int window = (int)Math.Round(spec.WindowShare!.Value * regime.TotalSteps);
        var options = spec.Method == "alpharl_rank1" ? AlphaRLOptions.Paper() : new AlphaRLOptions();
        options.Snapshots.Interval = Math.Max(1, window / Speedup.Regime.SnapshotsPerWindow);
        options.Attempts.MinSnapshots = options.Snapshots.Max = Speedup.Regime.SnapshotsPerWindow;
        options.Attempts.FitThreshold = 1e9;
        options.Jumps.Lengths = [.. JumpLengths];
        bool uncovered = !regime.Grpo.TrainOnlyCovered;
        int warmup = Math.Min(Speedup.Regime.SnapshotsPerWindow - 3, (int)Math.Ceiling((double)regime.Grpo.WarmupSteps / options.Snapshots.Interval) - 1);
        options.Jumps.Methods = spec.Method switch
        {
            "alpharl_velocity" => [new VelocityJumpOptions { IncludeUncovered = uncovered, SkipSnapshots = Math.Max(0, warmup) }],
            "alpharl_rank1" => options.Jumps.Methods,
            _ => throw new ArgumentException($"Unknown method \"{spec.Method}\": use train, alpharl_velocity or alpharl_rank1."),
        };
        return options;
    }
}

/// <summary>
/// Measures a run's quality: the task's exact expected reward on the test (or validation) prompts in format U, and the
/// retained skill's on the same pairs in format C, combined by the regime's rule against the base's format-C reward.
/// </summary>
internal sealed class QualityProbe
{
    private readonly RlRun _run;
    private readonly TunedRegime _regime;
    private readonly IReadOnlyList<Problem> _testC, _validationC;
    private readonly double _test0, _validation0;

    public QualityProbe(RlRun run, TunedRegime regime)
    {
        _run = run;
        _regime = regime;
        var task = run.Task as ElicitationTask
            ?? throw new ArgumentException($"The tuned benchmark measures the elicitation task's formats U and C; regime {regime.Name} runs {run.Task.Name}.", nameof(run));
        _testC = ForgettingQuality.InFormatC(task, run.Sets.Test);
        _validationC = ForgettingQuality.InFormatC(task, run.Sets.Validation);
        _test0 = Sequences.ExpectedReward(run.Model, run.Task, _testC);
        _validation0 = Sequences.ExpectedReward(run.Model, run.Task, _validationC);
    }

    public TunedPoint Measure(int step, double wallSeconds, int evaluations)
    {
        double task = _run.ExpectedReward(EvalSplit.Test);
        double retained = Sequences.ExpectedReward(_run.Model, _run.Task, _testC);
        return new TunedPoint(step, _regime.Quality(task, retained, _test0), task, retained, wallSeconds, evaluations);
    }

    /// <summary>The guard's score: the same quality on the validation prompts.</summary>
    public double Validation() =>
        _regime.Quality(_run.ExpectedReward(EvalSplit.Validation), Sequences.ExpectedReward(_run.Model, _run.Task, _validationC), _validation0);
}
