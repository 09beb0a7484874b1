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
internal sealed class TrajectoryBuilder(CheckpointSeries series, IExtrapolator extrapolator, bool useBasePoint) : IDisposable
{
    private readonly SubspaceTracker _tracker = new();
    private StoredWeights _spareBase = new(), _spareLast = new();
    private Dictionary<string, string>? _next;
    private bool _aheadBase, _aheadLast;
    private (string Name, Task Reading)? _ahead;

    /// <summary>W0 of the matrix just processed, when it was read.</summary>
    public StoredWeights Base { get; private set; } = new();

    /// <summary>W_e of the matrix just processed, when it was read.</summary>
    public StoredWeights Last { get; private set; } = new();

    /// <summary>From a snapshot store, reads the weights of the next matrix of <paramref name="order"/> (the order in
    /// which <see cref="Process(string, bool, bool)"/> will be called, with these flags) while the caller works on the
    /// current one: two more matrix-sized buffers. A call out of that order simply reads its weights itself.</summary>
    public void ReadAhead(IReadOnlyList<string> order, bool readBase, bool readLast)
    {
        _next = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < order.Count; i++) _next[order[i]] = order[i + 1];
        (_aheadBase, _aheadLast) = (readBase, readLast);
    }

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
            bool ready = TakeReadAhead(name, readBase, readLast);
            if (readBase && !ready) Base.Read(series.Base.Tensor(name));
            if (readLast && !ready) Last.Read(series.Last.Tensor(name));
            if (readBase) Base.EnsureFinite(baseWhere);
            if (readLast) Last.EnsureFinite($"at step {series.Steps[^1]}");
            if (_next?.GetValueOrDefault(name) is { } next && (_aheadBase || _aheadLast))
                _ahead = (next, Task.Run(() =>
                {
                    // One matrix further, the disk is asked to start reading, so that it works while this one is read.
                    if (_next.GetValueOrDefault(next) is { } afterNext)
                    {
                        if (_aheadBase) series.Base.Tensor(afterNext).Prefetch();
                        if (_aheadLast) series.Last.Tensor(afterNext).Prefetch();
                    }
                    if (_aheadBase)
                    {
                        _spareBase.Read(series.Base.Tensor(next));
                        _spareBase.IsFinite();
                    }
                    if (_aheadLast)
                    {
                        _spareLast.Read(series.Last.Tensor(next));
                        _spareLast.IsFinite();
                    }
                }));
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

    /// <summary>Whether the weights of <paramref name="name"/> were read ahead with these flags; if so they become
    /// <see cref="Base"/> and <see cref="Last"/>. A read ahead that failed is dropped: the caller reads again and meets
    /// the error itself, in order.</summary>
    private bool TakeReadAhead(string name, bool readBase, bool readLast)
    {
        if (_ahead is not var (aheadName, reading)) return false;
        _ahead = null;
        try
        {
            reading.Wait();
        }
        catch (AggregateException)
        {
            return false;
        }
        if (aheadName != name || readBase != _aheadBase || readLast != _aheadLast) return false;
        (Base, _spareBase) = (_spareBase, Base);
        (Last, _spareLast) = (_spareLast, Last);
        return true;
    }

    /// <summary>Waits for a read ahead still under way, so that the files it reads are not closed under it.</summary>
    public void Dispose()
    {
        try { _ahead?.Reading.Wait(); } catch (AggregateException) { }
        _ahead = null;
    }
}
