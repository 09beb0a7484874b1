using AlphaRl.Extrapolation;

namespace AlphaRl.Cli;

/// <summary>What <c>predict</c> and <c>analyze</c> share: the series, the covered matrices and how the line is fitted.</summary>
internal sealed record SeriesOptions(
    string Base, IReadOnlyList<StepFolder> Checkpoints, long BaseStep = 0, MatrixSelection? Selection = null,
    string BasePoint = "auto", string Method = "step-line", IReadOnlyDictionary<long, double>? Metrics = null, double? TargetMetric = null)
{
    /// <summary>Whether the base enters the fit as x = 0: always for "yes", never for "no", and for "auto" only when
    /// the checkpoints alone are too few for a fit judged out of sample.</summary>
    public bool UseBasePoint => BasePoint switch
    {
        "yes" => true,
        "no" => false,
        "auto" => Checkpoints.Count < LineExtrapolator.MinimumSnapshots,
        _ => throw new UsageException($"--base-point must be auto, yes or no; got '{BasePoint}'."),
    };

    /// <summary>The snapshot store the series comes from (then <see cref="Base"/> and <see cref="Checkpoints"/> are the store's).</summary>
    public SnapshotStore? Store { get; init; }

    /// <summary>The options of a series recorded in a snapshot store.</summary>
    public static SeriesOptions FromStore(SnapshotStore store, string basePoint = "auto", string method = "step-line",
        IReadOnlyDictionary<long, double>? metrics = null, double? targetMetric = null) =>
        new(store.Manifest.Base, store.Manifest.WindowSteps.Select(s => new StepFolder(s.Step, s.Directory)).ToList(), store.Manifest.BaseStep,
            new MatrixSelection(store.Manifest.Include, store.Manifest.Exclude), basePoint, method, metrics, targetMetric) { Store = store };

    /// <summary>Opens the series: the base and window checkpoints, or from the snapshot store the base and the last recorded checkpoint.</summary>
    public CheckpointSeries Open() => Store is { } store
        ? CheckpointSeries.OpenFromStore(store)
        : CheckpointSeries.Open(Base, BaseStep, Checkpoints, Selection ?? new MatrixSelection());

    public IExtrapolator Extrapolator() => Method switch
    {
        "step-line" => new StepLineExtrapolator(),
        "metric-pls" when Metrics is { Count: > 0 } && TargetMetric is not null => new MetricPlsExtrapolator(Metrics, TargetMetric.Value),
        "metric-pls" => throw new UsageException("--method metric-pls needs --metric STEP:VALUE for every checkpoint step and --target-metric."),
        _ => throw new UsageException($"--method must be step-line or metric-pls; got '{Method}'."),
    };
}
