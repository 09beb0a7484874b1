using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using AlphaRl.TorchSharp.Linalg;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// How close the TorchSharp top triplet comes to the bandwidth floor: reading dW once (a sum) is the baseline,
/// so Ratio is the cost of the triplet in "reads of dW". fp32 and bf16 updates; cold and warm start.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class TorchTopTripletVsReadOnce : UpdateReadOnceBenchmark
{
    [ParamsSource(nameof(Sizes))]
    public MatrixSize Size { get; set; }

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    public static IEnumerable<MatrixSize> Sizes => Workloads.Sizes;

    [GlobalSetup]
    public void Setup() => (Update, WarmStart) = Workloads.UpdateWithWarmStart(Size, DType);

    [Benchmark(Description = "top triplet, warm start")]
    public float TopTripletWarm() => TorchTopSingular.Compute(Update, WarmStart).Value;

    [Benchmark(Description = "top triplet, cold start")]
    public float TopTripletCold() => TorchTopSingular.Compute(Update).Value;

    /// <summary>The device path (TorchSharp mv/matmul, as on a GPU) run on the CPU: what the CPU path replaced.</summary>
    [Benchmark(Description = "torch-ops path, warm start")]
    public float TorchOpsWarm()
    {
        using var scope = NewDisposeScope();
        var a = DType == ScalarType.Float32 ? Update : Update.to(ScalarType.Float32);
        return TorchTopSingular.ComputeWithTorchOps(a, WarmStart, AlphaRl.Linalg.PowerIterationOptions.Default).Value;
    }
}

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

/// <summary>
/// The same question for the pure .NET span routine (fp32): reading dW once with SIMD (a sum) is the baseline,
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
