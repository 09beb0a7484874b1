using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>One update tensor with the warm start the tracker would pass; the baseline reads the tensor once.</summary>
public abstract class UpdateReadOnceBenchmark
{
    protected Tensor Update { get; set; } = null!;

    protected float[] WarmStart { get; set; } = null!;

    [GlobalCleanup]
    public void Cleanup() => Update.Dispose();

    [Benchmark(Baseline = true, Description = "read dW once (sum)")]
    public float ReadOnce()
    {
        using var sum = Update.sum();
        return sum.AsSingle();
    }
}
