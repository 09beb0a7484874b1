using AlphaRl.TorchSharp.Tracking;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// One tracker snapshot of every covered matrix of a realistic shape (8 layers, d = 512 or 1024, MLP 4x; 48 matrices,
/// 25.2 M or 100.7 M weights), warm-started from the previous snapshot after one "training interval" of drift.
/// The baseline reads W_t and W0 once (two sums per matrix): the least any snapshot of dW = W_t − W0 can cost.
/// The tracker on the CPU runs the span kernel; the device path (TorchSharp ops, what a GPU runs) is timed on the
/// same weights with the same warm starts, one matrix at a time and batched by shape (as the tracker runs it off the CPU). Fewer iterations than the other suites: each one moves 100 M weights first.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
[InvocationCount(1)]
[WarmupCount(1)]
[IterationCount(7)]
public class SnapshotOfRealisticModel
{
    private RealisticModel _model = null!;
    private TorchSubspaceTracker _tracker = null!;
    private long _step;

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    [Params(512, 1024)]
    public int Width { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new RealisticModel(DType, width: Width);
        _tracker = _model.StartTracking(1);
        _step = _tracker.Steps[^1];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine($"// snapshot storage: {_tracker.StorageBytes / _tracker.Steps.Count} bytes per snapshot; model {_model.ModelBytes} bytes ({DType})");
        _tracker.Dispose();
        _model.Dispose();
    }

    [IterationSetup]
    public void MoveWeights() => _model.Train();

    [Benchmark(Baseline = true, Description = "read W_t and W0 once")]
    public float ReadOnce()
    {
        using var scope = NewDisposeScope();
        float total = 0;
        foreach (var m in _model.Covered)
            total += m.Parameter.sum().AsSingle() + _tracker.Base[m.Name].sum().AsSingle();
        return total;
    }

    [Benchmark(Description = "snapshot (tracker.Observe, span kernel)")]
    public long Snapshot()
    {
        _tracker.Observe(++_step);
        return _tracker.StorageBytes;
    }

    /// <summary>The device path for every matrix (bf16 widened to float32 first, as on a GPU), warm-started from the
    /// tracker's newest V; nothing is recorded.</summary>
    [Benchmark(Description = "snapshot, device path (torch ops, per matrix)")]
    public float DeviceSnapshot()
    {
        float total = 0;
        foreach (var m in _model.Covered)
        {
            using var scope = NewDisposeScope();
            var wt = m.Parameter.detach().to(ScalarType.Float32);
            var w0 = _tracker.Base[m.Name].to(ScalarType.Float32);
            total += AlphaRl.TorchSharp.Linalg.TorchTopSingular.ComputeOfDifferenceWithTorchOps(wt, w0, _tracker.Snapshots(m.Name)[^1].V,
                AlphaRl.Linalg.PowerIterationOptions.Default).Value;
        }
        return total;
    }

    /// <summary>The batched device path (what <see cref="TorchSubspaceTracker.Observe"/> runs off the CPU): the matrices
    /// of each shape iterated together in <c>bmm</c> products, warm-started from the tracker's newest V; nothing is recorded.</summary>
    [Benchmark(Description = "snapshot, device path (torch ops, batched by shape)")]
    public float BatchedDeviceSnapshot()
    {
        float total = 0;
        foreach (var group in _model.Covered.GroupBy(m => (m.Rows, m.Cols)))
        {
            using var scope = NewDisposeScope();
            var members = group.ToArray();
            var triplets = AlphaRl.TorchSharp.Linalg.TorchTopSingular.ComputeOfDifferenceBatchedWithTorchOps(
                members.Select(m => m.Parameter).ToArray(), members.Select(m => _tracker.Base[m.Name]).ToArray(),
                members.Select(m => (float[]?)_tracker.Snapshots(m.Name)[^1].V).ToArray(), AlphaRl.Linalg.PowerIterationOptions.Default);
            foreach (var t in triplets) total += t!.Value;
        }
        return total;
    }
}
