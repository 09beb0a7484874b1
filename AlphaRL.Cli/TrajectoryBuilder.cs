using System.Numerics.Tensors;
using AlphaRl.Extrapolation;
using AlphaRl.Tracking;

namespace AlphaRl.Cli;

/// <summary>One covered matrix after streaming through the series: its rank-1 snapshots and, when the window has
/// enough points, its trajectory fit.</summary>
internal sealed record MatrixTrajectory(string Name, int Rows, int Cols, IReadOnlyList<Rank1Snapshot> Snapshots, TrajectoryFit? Fit);

/// <summary>
/// Streams one covered matrix at a time: reads W0 and each checkpoint's W_t, forms dW_t = W_t − W0 and records its
/// sign-aligned top triplet with <see cref="SubspaceTracker.Observe"/>, then fits the trajectory. Holds three
/// matrix-sized buffers, reused from one matrix to the next; afterwards <see cref="Base"/> holds W0 and
/// <see cref="Last"/> holds the last checkpoint's W_e of the matrix just processed.
/// </summary>
internal sealed class TrajectoryBuilder(CheckpointSeries series, IExtrapolator extrapolator, bool useBasePoint)
{
    private readonly SubspaceTracker _tracker = new();
    private float[] _base = [];
    private float[] _current = [];
    private float[] _update = [];

    private int _length;

    public Span<float> Base => _base.AsSpan(0, _length);
    public Span<float> Last => _current.AsSpan(0, _length);

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
        int n = rows * cols;
        Grow(ref _base, n);
        Grow(ref _current, n);
        Grow(ref _update, n);
        var w0 = _base.AsSpan(0, n);
        var w = _current.AsSpan(0, n);
        var dw = _update.AsSpan(0, n);
        IReadOnlyList<Rank1Snapshot> snapshots;
        if (series.Recorded is { } recorded)
        {
            if (readBase) ReadBase(name, w0);
            if (readLast)
            {
                Finite.Read(series.Last.Tensor(name), w, $"at step {series.Steps[^1]}");
            }
            snapshots = recorded[name];
        }
        else
        {
            ReadBase(name, w0);
            foreach (var (step, checkpoint) in series.Window)
            {
                var tensor = checkpoint.Tensor(name);
                Finite.Read(tensor, w, $"at step {step}");
                TensorPrimitives.Subtract(w, w0, dw);
                Finite.Observe(_tracker, tensor.File.Path, name, step, dw, rows, cols);
            }
            snapshots = _tracker.Snapshots(name);
        }
        _length = n;
        var window = useBasePoint
            ? snapshots.Prepend(new Rank1Snapshot(series.BaseStep, 0f, new float[rows], new float[cols], 0f)).ToList()
            : snapshots.ToList();
        var fit = window.Count >= LineExtrapolator.MinimumSnapshots ? extrapolator.Fit(name, window) : null;
        return new MatrixTrajectory(name, rows, cols, snapshots.ToList(), fit);
    }

    private void ReadBase(string name, Span<float> w0) =>
        Finite.Read(series.Base.Tensor(name), w0, $"of the base (W0, step {series.BaseStep})");

    private static void Grow(ref float[] buffer, int n)
    {
        if (buffer.Length < n) buffer = new float[n];
    }
}
