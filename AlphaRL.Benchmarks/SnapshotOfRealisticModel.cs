using AlphaRl.TorchSharp.Tracking;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// One tracker snapshot of every covered matrix of a realistic shape (8 layers, d = 512, MLP 4x; 48 matrices,
/// 25.2 M weights), warm-started from the previous snapshot after one "training interval" of drift.
/// The baseline reads W_t and W0 once (two sums per matrix): the least any snapshot of dW = W_t − W0 can cost.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
[InvocationCount(1)]
public class SnapshotOfRealisticModel
{
    private RealisticModel _model = null!;
    private TorchSubspaceTracker _tracker = null!;
    private long _step;

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new RealisticModel(DType);
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

    [Benchmark(Description = "snapshot (tracker.Observe)")]
    public long Snapshot()
    {
        _tracker.Observe(++_step);
        return _tracker.StorageBytes;
    }
}
