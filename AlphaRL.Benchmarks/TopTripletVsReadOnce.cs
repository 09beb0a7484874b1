using AlphaRl.TorchSharp.Linalg;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// How close the TorchSharp top triplet comes to the bandwidth floor: reading dW once (a sum) is the baseline,
/// so Ratio is the cost of the triplet in "reads of dW". fp32 and bf16 updates; cold and warm start.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class TorchTopTripletVsReadOnce
{
    private Tensor _update = null!;
    private float[] _warmStart = null!;

    [ParamsSource(nameof(Sizes))]
    public string Size { get; set; } = "";

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    public static IEnumerable<string> Sizes => Workloads.Sizes;

    [GlobalSetup]
    public void Setup()
    {
        var (rows, cols) = Workloads.Parse(Size);
        var (current, previous) = Workloads.UpdatePair(rows, cols, seed: rows * 7919 + cols);
        _warmStart = Workloads.WarmStartFrom(previous.to(DType));
        _update = current.to(DType);
        if (!ReferenceEquals(_update, current)) current.Dispose();
        previous.Dispose();
    }

    [GlobalCleanup]
    public void Cleanup() => _update.Dispose();

    [Benchmark(Baseline = true, Description = "read dW once (sum)")]
    public float ReadOnce()
    {
        using var sum = _update.sum();
        return sum.AsSingle();
    }

    [Benchmark(Description = "top triplet, warm start")]
    public float TopTripletWarm() => TorchTopSingular.Compute(_update, _warmStart).Value;

    [Benchmark(Description = "top triplet, cold start")]
    public float TopTripletCold() => TorchTopSingular.Compute(_update).Value;
}

/// <summary>
/// The same question for the pure .NET span routine (fp32): reading dW once with SIMD (a sum) is the baseline.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class SpanTopTripletVsReadOnce
{
    private float[] _update = null!;
    private float[] _warmStart = null!;
    private int _rows, _cols;

    [ParamsSource(nameof(Sizes))]
    public string Size { get; set; } = "";

    public static IEnumerable<string> Sizes => Workloads.Sizes;

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = Workloads.Parse(Size);
        var (current, previous) = Workloads.UpdatePair(_rows, _cols, seed: _rows * 7919 + _cols);
        _warmStart = Workloads.WarmStartFrom(previous);
        _update = Workloads.ToArray(current);
        current.Dispose();
        previous.Dispose();
    }

    [Benchmark(Baseline = true, Description = "read dW once (sum)")]
    public float ReadOnce() => System.Numerics.Tensors.TensorPrimitives.Sum<float>(_update);

    [Benchmark(Description = "top triplet, warm start")]
    public float TopTripletWarm() => AlphaRl.Linalg.TopSingular.Compute(_update, _rows, _cols, _warmStart).Value;

    [Benchmark(Description = "top triplet, cold start")]
    public float TopTripletCold() => AlphaRl.Linalg.TopSingular.Compute(_update, _rows, _cols).Value;
}
