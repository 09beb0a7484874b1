using System.Text.Json.Serialization;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// One point of a method's curve: the weights after <c>Trained</c> RL steps (jumps included), their test metric and
/// greedy accuracy, the wall time spent so far (RL steps, AlphaRL's overhead, guard evaluations, a peer's build and
/// alpha search; never the benchmark's own test evaluations) and the evaluations the method has spent so far.
/// </summary>
internal sealed record CurvePoint(int Trained, double Metric, double Accuracy, double WallSeconds, int Evaluations);

/// <summary>One jump an AlphaRL run tried.</summary>
internal sealed record JumpRecord(long TrainedStep, long FromStep, long TargetStep, bool Kept, string? Method, double? Length,
    double? ValidationBefore, double? ValidationAfter, int Evaluations, double TestMetricAfter,
    double? StepNormTrend, double? VelocityCosine, double? Rank1EnergyShare, double? FitError);

/// <summary>One method's run in one cell: a curve of test metrics against RL steps trained, and its jumps.</summary>
/// <param name="Method">The method's name in the summary (<c>alpharl_velocity</c>, <c>expo</c>, ...).</param>
/// <param name="Window">The early window it had (steps), or null for full runs and repeated jumps.</param>
/// <param name="Curve">Its points, in order; a jump adds the point after it at the same trained step.</param>
/// <param name="Jumps">Jumps tried (AlphaRL runs).</param>
/// <param name="Detail">What it chose (ExPO's alpha, the kept candidate, ...).</param>
internal sealed record MethodRun(string Method, int? Window, IReadOnlyList<CurvePoint> Curve, IReadOnlyList<JumpRecord> Jumps, string Detail)
{
    public int Evaluations => Curve.Count == 0 ? 0 : Curve[^1].Evaluations;
}

/// <summary>The paper's properties on a cell's full run.</summary>
/// <param name="UpdateToBase">‖dW‖_F / ‖W0‖_F of the covered matrices at T.</param>
/// <param name="EnergyShare">Mean s1² / ‖dW‖_F² over the covered matrices at T.</param>
/// <param name="Rank1RecoveryRescaled">Retention of W0 + ‖dW‖ u1 v1ᵀ (covered matrices; others at W_T).</param>
/// <param name="Rank1Recovery">Retention of W0 + s1 u1 v1ᵀ.</param>
/// <param name="TrajectoryFitError">Held-out relative error of a rank-1 line fitted to the first half of the run's snapshots, predicting the second half.</param>
/// <param name="VelocityCosine">Cosine of the first and second halves' velocities over the 25% window (AlphaRL's diagnostics), when measured.</param>
/// <param name="StepNormTrend">Second-half / first-half mean step norm over the 25% window (AlphaRL's diagnostics), when measured.</param>
internal sealed record RegimeProperties(double UpdateToBase, double EnergyShare, double Rank1RecoveryRescaled, double Rank1Recovery,
    double TrajectoryFitError, double? VelocityCosine, double? StepNormTrend);

/// <summary>Everything measured in one cell: a regime, an algorithm, a seed.</summary>
internal sealed record CellResult(string Regime, string Algorithm, int Seed, int TotalSteps, double Metric0, double MetricT,
    double Accuracy0, double AccuracyT, double TrackerOverheadShare, RegimeProperties Properties, IReadOnlyList<MethodRun> Runs)
{
    /// <summary>The experiment's name, regime and algorithm.</summary>
    public string Experiment => $"{Regime}-{Algorithm}";

    /// <summary>The test metric a method must reach for <paramref name="share"/> of the full run's gain.</summary>
    public double Target(double share) => Metric0 + share * (MetricT - Metric0);

    /// <summary>(m − m0) / (mT − m0).</summary>
    public double Retention(double metric) => (metric - Metric0) / (MetricT - Metric0);
}

/// <summary>
/// A row of <c>speedup-summary.json</c>: a method in a regime and algorithm, means over seeds; steps and speedups to a
/// threshold are null unless every seed reached it, and <c>Reached</c> counts the seeds that did.
/// </summary>
internal sealed record SummaryRow(string Regime, string Algorithm, string Method, int Seeds, int FullSteps,
    [property: JsonPropertyName("steps_to_96")] double? StepsTo96,
    [property: JsonPropertyName("steps_to_100")] double? StepsTo100,
    [property: JsonPropertyName("speedup_to_96")] double? SpeedupTo96,
    [property: JsonPropertyName("speedup_to_100")] double? SpeedupTo100,
    [property: JsonPropertyName("wallclock_speedup_to_96")] double? WallclockSpeedupTo96,
    [property: JsonPropertyName("wallclock_speedup_to_100")] double? WallclockSpeedupTo100,
    [property: JsonPropertyName("retention_at_4x")] double RetentionAt4x,
    [property: JsonPropertyName("retention_at_4x_sd")] double RetentionAt4xSd,
    [property: JsonPropertyName("retention_at_2_5x")] double RetentionAt2_5x,
    [property: JsonPropertyName("retention_at_2_5x_sd")] double RetentionAt2_5xSd,
    double Evaluations, ReachedCounts Reached);

/// <summary>Seeds that reached each threshold.</summary>
internal sealed record ReachedCounts([property: JsonPropertyName("to_96")] int To96, [property: JsonPropertyName("to_100")] int To100);

/// <summary>One regime's settings, as written to the results.</summary>
internal sealed record RegimeRecord(string Name, string Task, int Width, int Layers, double LearningRate, int TotalSteps,
    IReadOnlyList<int> Windows, int SnapshotsPerWindow, bool TrainOnlyCovered, string Metric, IReadOnlyList<string> Algorithms, IReadOnlyList<int> Seeds);

/// <summary>The whole benchmark's output.</summary>
internal sealed record SpeedupResults(string Mode, string Command, string Machine, DateTimeOffset Date, double ElapsedMinutes,
    IReadOnlyList<RegimeRecord> Regimes, IReadOnlyList<CellResult> Cells, IReadOnlyList<SummaryRow> Rows);
