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
