using AlphaRl.Extrapolation;
using AlphaRl.Tracking;

namespace AlphaRl.Cli;

/// <summary>One covered matrix after streaming through the series: its rank-1 snapshots and, when the window has
/// enough points, its trajectory fit.</summary>
internal sealed record MatrixTrajectory(string Name, int Rows, int Cols, IReadOnlyList<Rank1Snapshot> Snapshots, TrajectoryFit? Fit);

/// <summary>
/// Streams one covered matrix at a time: reads W0 and each checkpoint's W_t in their stored form and records the
/// sign-aligned top triplet of dW_t = W_t − W0 with the difference kernels (<see cref="Finite.ObserveDifference"/>),
/// then fits the trajectory. Holds two matrix-sized buffers, reused from one matrix to the next; afterwards
/// <see cref="Base"/> holds W0 and <see cref="Last"/> the last checkpoint's W_e of the matrix just processed (when read).
/// </summary>
internal sealed class TrajectoryBuilder(CheckpointSeries series, IExtrapolator extrapolator, bool useBasePoint)
{
    private readonly SubspaceTracker _tracker = new();

    /// <summary>W0 of the matrix just processed, when it was read.</summary>
    public StoredWeights Base { get; } = new();

    /// <summary>W_e of the matrix just processed, when it was read.</summary>
    public StoredWeights Last { get; } = new();

    /// <summary>Whether the base enters the fit as the point x = 0 at the base step (dW is zero there by definition).</summary>
    public bool UsesBasePoint => useBasePoint;

    public MatrixTrajectory Process(string name) => Process(name, readBase: true, readLast: true);

    /// <summary>The trajectory of one matrix. From a snapshot store the snapshots are the recorded ones, and only the
    /// weights asked for are read (<paramref name="readBase"/> W0, <paramref name="readLast"/> W_e); from a series every
    /// checkpoint is read.</summary>
    public MatrixTrajectory Process(string name, bool readBase, bool readLast)
    {
        var info = series.Last.Tensor(name).Info;
        int rows = checked((int)info.Shape[0]), cols = checked((int)info.Shape[1]);
        string baseWhere = $"of the base (W0, step {series.BaseStep})";
        IReadOnlyList<Rank1Snapshot> snapshots;
        if (series.Recorded is { } recorded)
        {
            if (readBase) Base.ReadFinite(series.Base.Tensor(name), baseWhere);
            if (readLast) Last.ReadFinite(series.Last.Tensor(name), $"at step {series.Steps[^1]}");
            snapshots = recorded[name];
        }
        else
        {
            Base.Read(series.Base.Tensor(name));
            foreach (var (step, checkpoint) in series.Window)
            {
                Last.Read(checkpoint.Tensor(name));
                Finite.ObserveDifference(_tracker, Base, baseWhere, Last, step, rows, cols);
            }
            snapshots = _tracker.Snapshots(name);
        }
        var window = useBasePoint
            ? snapshots.Prepend(new Rank1Snapshot(series.BaseStep, 0f, new float[rows], new float[cols], 0f)).ToList()
            : snapshots.ToList();
        var fit = window.Count >= LineExtrapolator.MinimumSnapshots ? extrapolator.Fit(name, window) : null;
        return new MatrixTrajectory(name, rows, cols, snapshots.ToList(), fit);
    }
}
