namespace AlphaRl.Benchmarks.Speedup;

/// <summary>One point of an accuracy curve: test accuracy of the weights after <c>Step</c> RL steps.</summary>
internal sealed record CurvePoint(double Step, double Accuracy);

/// <summary>A method's result for one window of one seed.</summary>
internal sealed record MethodResult(
    string Method, int WindowSteps, int StepsTrained, double StepsSpeedup, double WallSeconds, double WallclockSpeedup,
    double Accuracy, double Retention, string Detail);

/// <summary>One jump an AlphaRL run tried.</summary>
internal sealed record JumpRecord(long TrainedStep, long FromStep, long TargetStep, bool Kept, double? ValidationBefore, double? ValidationAfter,
    double FitRelativeError, double FitCosine, double TestAccuracyAfter);

/// <summary>An AlphaRL run of one window: its accuracy curve until it stopped, and its jumps.</summary>
internal sealed record AlphaRlRunRecord(int WindowSteps, int SnapshotInterval, IReadOnlyList<CurvePoint> Curve, IReadOnlyList<JumpRecord> Jumps);

/// <summary>Rank-k recovery of the full run's final update.</summary>
internal sealed record RankRecovery(string Rank, bool Rescaled, double Accuracy, double Recovery);

/// <summary>Everything measured for one seed of one experiment.</summary>
internal sealed record SeedResult(
    string Experiment, string Algorithm, int Seed, int TotalSteps, double BaseAccuracy, double FinalAccuracy,
    double FullWallSeconds, double TrackerOverheadShare, IReadOnlyList<CurvePoint> FullCurve,
    double EnergyShareMean, double EnergyShareMin, double EnergyShareMax, IReadOnlyList<RankRecovery> RankK,
    double TrajectoryFitRelativeError, double TrajectoryFitCosine,
    IReadOnlyList<MethodResult> Methods, IReadOnlyList<AlphaRlRunRecord> AlphaRlRuns);

/// <summary>A row of <c>speedup-summary.json</c>: one algorithm × method × window, averaged over seeds.</summary>
internal sealed record SummaryRow(
    string Algorithm, string Method, int WindowSteps, int TotalSteps, int Seeds, double StepsSpeedup,
    double WallclockSpeedup, double RetentionMean, double RetentionSd);

/// <summary>One experiment's settings, as written to the results.</summary>
internal sealed record ExperimentRecord(string Name, string Algorithm, string Task, double LearningRate, int Width, int Layers,
    int PromptsPerStep, int SamplesPerPrompt, int Epochs, int TotalSteps, IReadOnlyList<int> Windows, IReadOnlyList<int> Seeds, bool Main);

/// <summary>The whole benchmark's output.</summary>
internal sealed record SpeedupResults(
    string Mode, string Command, string Machine, DateTimeOffset Date, double ElapsedMinutes,
    IReadOnlyList<ExperimentRecord> Experiments, IReadOnlyList<SeedResult> Seeds, IReadOnlyList<SummaryRow> Rows);
