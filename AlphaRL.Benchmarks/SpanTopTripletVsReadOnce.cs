using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using BenchmarkDotNet.Attributes;

namespace AlphaRl.Benchmarks;

/// <summary>
/// The question of <see cref="TorchTopTripletVsReadOnce"/> for the pure .NET span routine (fp32): reading dW once with SIMD (a sum) is the baseline,
/// on two threads from the same size as the routine itself (512K values), so both use the same cores.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class SpanTopTripletVsReadOnce
{
    private float[] _update = null!;
    private float[] _warmStart = null!;
    private int _rows, _cols;

    [ParamsSource(nameof(Sizes))]
    public MatrixSize Size { get; set; }

    public static IEnumerable<MatrixSize> Sizes => Workloads.Sizes;

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _cols) = Size;
        var (update, warmStart) = Workloads.UpdateWithWarmStart(Size);
        using (update) _update = Workloads.ToArray(update);
        _warmStart = warmStart;
    }

    [Benchmark(Baseline = true, Description = "read dW once (sum)")]
    public float ReadOnce()
    {
        if (_update.Length < 1 << 19) return TensorPrimitives.Sum<float>(_update);
        int half = _update.Length / 2;
        float first = 0, second = 0;
        Parallel.Invoke(() => first = TensorPrimitives.Sum<float>(_update.AsSpan(0, half)),
            () => second = TensorPrimitives.Sum<float>(_update.AsSpan(half)));
        return first + second;
    }

    [Benchmark(Description = "top triplet, warm start")]
    public float TopTripletWarm() => AlphaRl.Linalg.TopSingular.Compute(_update, _rows, _cols, _warmStart).Value;

    [Benchmark(Description = "top triplet, cold start")]
    public float TopTripletCold() => AlphaRl.Linalg.TopSingular.Compute(_update, _rows, _cols).Value;
}
