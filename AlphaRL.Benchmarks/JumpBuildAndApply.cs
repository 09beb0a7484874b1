using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Tracking;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// The cost of a jump on the realistic shape (8 layers, d = 512, MLP 4x) from a window of 8 snapshots:
/// building it (fit a line per matrix, predict, rank-1 coefficients) and applying it in place with its exact
/// backup, then restoring. The baseline copies the covered weights once (the backup alone).
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class JumpBuildAndApply
{
    private const int WindowSnapshots = 8;
    private RealisticModel _model = null!;
    private TorchSubspaceTracker _tracker = null!;
    private List<MatrixJump> _jumps = null!;
    private readonly StepLineExtrapolator _extrapolator = new();

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _model = new RealisticModel(DType);
        _tracker = _model.StartTracking(WindowSnapshots);
        _jumps = BuildJump();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _tracker.Dispose();
        _model.Dispose();
    }

    [Benchmark(Baseline = true, Description = "copy covered weights once")]
    public long CopyWeightsOnce()
    {
        using var scope = NewDisposeScope();
        long n = 0;
        foreach (var m in _model.Covered) n += m.Parameter.detach().clone().NumberOfElements;
        return n;
    }

    [Benchmark(Description = "build jump (fit + predict)")]
    public List<MatrixJump> BuildJump()
    {
        long target = 2 * _tracker.Steps[^1];
        var jumps = new List<MatrixJump>(_model.Covered.Count);
        foreach (var m in _model.Covered)
        {
            var fit = _extrapolator.Fit(m.Name, _tracker.Snapshots(m.Name));
            var x = _extrapolator.Predict(fit, target);
            jumps.Add(new MatrixJump(m, Rank1Jump.Coefficients(fit, x, JumpForm.Increment), fit.LastV));
        }
        return jumps;
    }

    [Benchmark(Description = "apply jump + restore")]
    public long ApplyAndRestore()
    {
        using var jump = WeightJump.Apply(_jumps, _tracker.Base, JumpForm.Increment);
        jump.Restore();
        return jump.BackupBytes;
    }
}
