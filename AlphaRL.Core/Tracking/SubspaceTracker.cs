using System.Numerics.Tensors;
using AlphaRl.Linalg;

namespace AlphaRl.Tracking;

/// <summary>
/// The plain .NET tracker: records sign-aligned rank-1 snapshots of each matrix's update. Updates can be given as
/// dense spans (<see cref="Observe"/>, which runs the warm-started power iteration) or as triplets computed
/// elsewhere (<see cref="Record"/>, used by the TorchSharp adapter, which computes them on the device).
/// </summary>
/// <example>
/// <code>
/// var tracker = new SubspaceTracker();
/// tracker.Observe("layers.0.q_proj", step: 10, update, rows: 64, cols: 64);
/// tracker.Observe("layers.0.q_proj", step: 20, update2, rows: 64, cols: 64);
/// var snapshots = tracker.Snapshots("layers.0.q_proj");
/// </code>
/// </example>
public sealed class SubspaceTracker : ISubspaceTracker
{
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly List<string> _order = new();
    private readonly List<long> _steps = new();
    private readonly PowerIterationOptions _power;

    /// <summary>Creates an empty tracker.</summary>
    /// <param name="powerIteration">Settings of the top-triplet routine used by <see cref="Observe"/>;
    /// when null, <see cref="PowerIterationOptions.Converged"/>: this tracker serves offline checkpoints far apart,
    /// where each snapshot converges from the previous V. Pass <see cref="PowerIterationOptions.Default"/> to follow
    /// a run online with a fixed pass budget, as the TorchSharp tracker does.</param>
    public SubspaceTracker(PowerIterationOptions? powerIteration = null) => _power = powerIteration ?? PowerIterationOptions.Converged;

    /// <inheritdoc />
    public IReadOnlyList<string> Matrices => _order;

    /// <inheritdoc />
    public IReadOnlyList<long> Steps => _steps;

    /// <inheritdoc />
    public long StorageBytes => _series.Values.Sum(s => s.Snapshots.Sum(x => x.StorageBytes));

    /// <inheritdoc />
    public IReadOnlyList<Rank1Snapshot> Snapshots(string matrix) =>
        _series.TryGetValue(matrix, out var s) ? s.Snapshots : throw new KeyNotFoundException($"Matrix '{matrix}' is not tracked.");

    /// <summary>The newest snapshot's V of a matrix, the warm start for its next triplet; empty when none.</summary>
    public ReadOnlySpan<float> WarmStart(string matrix) =>
        _series.TryGetValue(matrix, out var s) && s.Snapshots.Count > 0 ? s.Snapshots[^1].V : default;

    /// <summary>Computes the top triplet of a matrix's cumulative update and records it, sign-aligned.</summary>
    /// <param name="matrix">Name of the matrix.</param>
    /// <param name="step">Training step; must increase from one snapshot of the matrix to the next.</param>
    /// <param name="update">dW_t = W_t − W0, row-major.</param>
    /// <param name="rows">Rows of the matrix.</param>
    /// <param name="cols">Columns of the matrix.</param>
    public Rank1Snapshot Observe(string matrix, long step, ReadOnlySpan<float> update, int rows, int cols)
    {
        if (_series.TryGetValue(matrix, out var series))
            series.EnsureShape(matrix, step, rows, cols);
        SingularTriplet triplet;
        try
        {
            triplet = TopSingular.Compute(update, rows, cols, WarmStart(matrix), _power);
        }
        catch (AlphaRLException e)
        {
            throw UpdateError(matrix, step, e);
        }
        return Record(matrix, step, triplet, triplet.MatrixNorm);
    }

    /// <summary>Computes the top triplet of the update W_t − W0 from the two matrices, without forming it (each pass
    /// reads W_t and W0 once), and records it, sign-aligned, with ‖W_t − W0‖_F.</summary>
    /// <param name="matrix">Name of the matrix.</param>
    /// <param name="step">Training step; must increase from one snapshot of the matrix to the next.</param>
    /// <param name="current">W_t, row-major.</param>
    /// <param name="initial">W0, row-major.</param>
    /// <param name="rows">Rows of the matrix.</param>
    /// <param name="cols">Columns of the matrix.</param>
    public Rank1Snapshot ObserveDifference(string matrix, long step, ReadOnlySpan<float> current, ReadOnlySpan<float> initial, int rows, int cols)
    {
        if (_series.TryGetValue(matrix, out var series))
            series.EnsureShape(matrix, step, rows, cols);
        SingularTriplet triplet;
        try
        {
            triplet = TopSingular.ComputeOfDifference(current, initial, rows, cols, WarmStart(matrix), _power);
        }
        catch (AlphaRLException e)
        {
            throw UpdateError(matrix, step, e);
        }
        return Record(matrix, step, triplet, triplet.MatrixNorm);
    }

    /// <summary><see cref="ObserveDifference"/> for bfloat16 weights given as their bit patterns (widened in the
    /// kernel as it reads them, so the update is exactly the one formed in float32).</summary>
    /// <param name="matrix">Name of the matrix.</param>
    /// <param name="step">Training step; must increase from one snapshot of the matrix to the next.</param>
    /// <param name="currentBits">W_t as bfloat16 bit patterns, row-major.</param>
    /// <param name="initialBits">W0 as bfloat16 bit patterns, row-major.</param>
    /// <param name="rows">Rows of the matrix.</param>
    /// <param name="cols">Columns of the matrix.</param>
    public Rank1Snapshot ObserveDifferenceBFloat16(string matrix, long step, ReadOnlySpan<ushort> currentBits, ReadOnlySpan<ushort> initialBits, int rows, int cols)
    {
        if (_series.TryGetValue(matrix, out var series))
            series.EnsureShape(matrix, step, rows, cols);
        SingularTriplet triplet;
        try
        {
            triplet = TopSingular.ComputeOfDifferenceBFloat16(currentBits, initialBits, rows, cols, WarmStart(matrix), _power);
        }
        catch (AlphaRLException e)
        {
            throw UpdateError(matrix, step, e);
        }
        return Record(matrix, step, triplet, triplet.MatrixNorm);
    }

    private static AlphaRLException UpdateError(string matrix, long step, AlphaRLException e) =>
        new($"The update of '{matrix}' at step {step} holds NaN or infinity, or is out of the float32 range; nothing was recorded. {e.Message}", e);

    /// <summary>Records a triplet computed elsewhere, flipping (u, v) together when u points against the previous snapshot's.</summary>
    /// <param name="matrix">Name of the matrix.</param>
    /// <param name="step">Training step; must increase from one snapshot of the matrix to the next.</param>
    /// <param name="triplet">Top singular triplet of the matrix's cumulative update.</param>
    /// <param name="updateNorm">Frobenius norm of the update, or NaN when unknown.</param>
    public Rank1Snapshot Record(string matrix, long step, SingularTriplet triplet, float updateNorm = float.NaN)
    {
        ArgumentNullException.ThrowIfNull(triplet);
        if (!float.IsFinite(triplet.Value) || !AllFinite(triplet.U) || !AllFinite(triplet.V))
            throw new AlphaRLException($"The top singular triplet of '{matrix}' at step {step} holds NaN or infinity; nothing was recorded.");
        if (!_series.TryGetValue(matrix, out var series))
        {
            series = new Series(triplet.U.Length, triplet.V.Length);
            _series.Add(matrix, series);
            _order.Add(matrix);
        }
        var snapshot = series.Append(matrix, step, triplet, updateNorm);
        if (_steps.Count == 0 || _steps[^1] < step) _steps.Add(step);
        return snapshot;
    }

    /// <summary>Drops all but the newest <paramref name="count"/> snapshots of every matrix (a sliding window).</summary>
    public void KeepNewest(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        foreach (var s in _series.Values)
            if (s.Snapshots.Count > count) s.Snapshots.RemoveRange(0, s.Snapshots.Count - count);
        if (_steps.Count > count) _steps.RemoveRange(0, _steps.Count - count);
    }

    /// <inheritdoc />
    public void Clear()
    {
        foreach (var s in _series.Values) s.Snapshots.Clear();
        _steps.Clear();
    }

    private static bool AllFinite(float[] values)
    {
        foreach (float x in values)
            if (!float.IsFinite(x)) return false;
        return true;
    }

    private sealed class Series(int rows, int cols)
    {
        public List<Rank1Snapshot> Snapshots { get; } = new();

        public void EnsureShape(string matrix, long step, int r, int c)
        {
            if (r != rows || c != cols)
                throw new AlphaRLException($"Matrix '{matrix}' was {rows}×{cols} in earlier snapshots but is {r}×{c} at step {step}.");
        }

        public Rank1Snapshot Append(string matrix, long step, SingularTriplet triplet, float updateNorm)
        {
            EnsureShape(matrix, step, triplet.U.Length, triplet.V.Length);
            if (Snapshots.Count > 0 && Snapshots[^1].Step >= step)
                throw new AlphaRLException($"Snapshots of '{matrix}' must have increasing steps: step {step} follows step {Snapshots[^1].Step}.");
            var u = (float[])triplet.U.Clone();
            var v = (float[])triplet.V.Clone();
            // Singular vectors are defined up to a joint sign: anchor each new snapshot to the newest aligned one,
            // so alignment works online and never looks at the future. cos(x_t, x_prev) has the sign of u_t · u_prev.
            if (Snapshots.Count > 0 && TensorPrimitives.Dot(u, Snapshots[^1].U) < 0f)
            {
                TensorPrimitives.Negate(u, u);
                TensorPrimitives.Negate(v, v);
            }
            var snapshot = new Rank1Snapshot(step, triplet.Value, u, v, updateNorm);
            Snapshots.Add(snapshot);
            return snapshot;
        }
    }
}
