using AlphaRl.Linalg;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Linalg;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Tracking;

/// <summary>
/// Tracks TorchSharp parameters: keeps W0 and, at each <see cref="Observe"/>, records the sign-aligned top singular
/// triplet of every covered matrix's update dW_t = W_t − W0, computed on the parameter's device and warm-started
/// from the previous snapshot. Stores O(m + n) per matrix per snapshot.
/// </summary>
public sealed class TorchSubspaceTracker : ISubspaceTracker, IDisposable
{
    private readonly SubspaceTracker _snapshots = new();
    private readonly PowerIterationOptions _power;

    /// <summary>Starts tracking: copies the current weights of <paramref name="matrices"/> as W0.</summary>
    /// <param name="matrices">The parameters to track (2-D).</param>
    /// <param name="baseOnCpu">Keep the W0 copies in host memory instead of on the parameters' device.</param>
    /// <param name="powerIteration">Settings of the top-triplet iteration.</param>
    public TorchSubspaceTracker(IEnumerable<CoveredMatrix> matrices, bool baseOnCpu = false, PowerIterationOptions? powerIteration = null)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        Covered = matrices.ToList();
        if (Covered.Count == 0)
            throw new ArgumentException("No matrices to track: the selection is empty.", nameof(matrices));
        var duplicate = Covered.GroupBy(m => m.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"Matrix '{duplicate.Key}' is listed {duplicate.Count()} times.", nameof(matrices));
        _power = powerIteration ?? PowerIterationOptions.Default;
        Base = new BaseWeights(Covered, baseOnCpu);
    }

    /// <summary>The tracked matrices.</summary>
    public IReadOnlyList<CoveredMatrix> Covered { get; }

    /// <summary>The W0 copies.</summary>
    public BaseWeights Base { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Matrices => Covered.Select(m => m.Name).ToList();

    /// <inheritdoc />
    public IReadOnlyList<long> Steps => _snapshots.Steps;

    /// <inheritdoc />
    public long StorageBytes => _snapshots.StorageBytes;

    /// <inheritdoc />
    public IReadOnlyList<Rank1Snapshot> Snapshots(string matrix) => _snapshots.Snapshots(matrix);

    /// <summary>
    /// Takes one snapshot of every covered matrix at <paramref name="step"/>. All-or-nothing: when any parameter
    /// changed shape or dtype, or any update holds NaN or infinity, nothing is recorded and the error names it.
    /// </summary>
    public void Observe(long step)
    {
        foreach (var m in Covered) m.EnsureUnchanged();
        if (_snapshots.Steps.Count > 0 && _snapshots.Steps[^1] >= step)
            throw new AlphaRLException($"Snapshot steps must increase: step {step} follows step {_snapshots.Steps[^1]}.");

        var triplets = new SingularTriplet?[Covered.Count];
        using (no_grad())
        {
            // Off the CPU (or when forced) matrices of one shape, dtype and device are iterated together in batched products.
            var batched = Enumerable.Range(0, Covered.Count).Where(i => UsesDevicePath(Covered[i].Parameter))
                .GroupBy(i => (Covered[i].Parameter.shape[0], Covered[i].Parameter.shape[1], Covered[i].Parameter.dtype, Covered[i].Parameter.device.ToString()));
            foreach (var group in batched)
            {
                using var scope = NewDisposeScope();
                var members = group.ToArray();
                var results = TorchTopSingular.ComputeOfDifferenceBatchedWithTorchOps(
                    members.Select(i => Covered[i].Parameter).ToArray(), members.Select(i => Base[Covered[i].Name]).ToArray(),
                    members.Select(i => (float[]?)_snapshots.WarmStart(Covered[i].Name).ToArray()).ToArray(), _power);
                for (int k = 0; k < members.Length; k++) triplets[members[k]] = results[k];
            }
            for (int i = 0; i < Covered.Count; i++)
            {
                if (triplets[i] is not null) continue;
                using var scope = NewDisposeScope();
                var m = Covered[i];
                // The triplet and ‖dW‖ come from W_t and W0 directly, read once per pass; dW is never formed.
                try
                {
                    triplets[i] = UsesDevicePath(m.Parameter)
                        ? TorchTopSingular.ComputeOfDifferenceWithTorchOps(m.Parameter.detach().to(ScalarType.Float32),
                            Base[m.Name].detach().to(m.Parameter.device).to(ScalarType.Float32), _snapshots.WarmStart(m.Name), _power)
                        : TorchTopSingular.ComputeOfDifference(m.Parameter, Base[m.Name], _snapshots.WarmStart(m.Name), _power);
                }
                catch (AlphaRLException e)
                {
                    throw new AlphaRLException($"The update of '{m.Name}' at step {step} holds NaN or infinity, or is out of the float32 range; no snapshot was recorded. {e.Message}", e);
                }
            }
        }
        for (int i = 0; i < Covered.Count; i++)
            _snapshots.Record(Covered[i].Name, step, triplets[i]!, triplets[i]!.MatrixNorm);
    }

    /// <summary>Run the device path (batched TorchSharp ops) on the CPU too, instead of the span kernel: for tests and
    /// benchmarks of what a GPU runs.</summary>
    internal bool DevicePathOnCpu { get; init; }

    /// <summary>Whether <paramref name="parameter"/> takes the device path: off the CPU, when forced, or too large for a span.</summary>
    private bool UsesDevicePath(Tensor parameter) =>
        DevicePathOnCpu || parameter.device_type != global::TorchSharp.DeviceType.CPU || parameter.NumberOfElements > int.MaxValue / sizeof(float);


    /// <summary>Records saved snapshots again (a resumed session's window), oldest first; they are already sign-aligned.</summary>
    internal void Restore(string matrix, Rank1Snapshot snapshot) =>
        _snapshots.Record(matrix, snapshot.Step, new SingularTriplet(snapshot.Sigma, snapshot.U, snapshot.V, 0, true), snapshot.UpdateNorm);

    /// <summary>Drops all but the newest <paramref name="count"/> snapshots (a sliding window).</summary>
    public void KeepNewest(int count) => _snapshots.KeepNewest(count);

    /// <inheritdoc />
    public void Clear() => _snapshots.Clear();

    /// <inheritdoc />
    public void Dispose() => Base.Dispose();
}
