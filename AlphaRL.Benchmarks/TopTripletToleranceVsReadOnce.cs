using AlphaRl.Linalg;
using AlphaRl.TorchSharp.Linalg;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// What the tolerance costs: the warm-started TorchSharp top triplet (fp32) at several tolerances against reading
/// dW once. The set-up prints, for each tolerance, the reads used and the angle to a tightly converged V.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class TopTripletToleranceVsReadOnce : UpdateReadOnceBenchmark
{
    private PowerIterationOptions _options = null!;

    [ParamsSource(nameof(Sizes))]
    public MatrixSize Size { get; set; }

    [Params(1e-5f, 1e-4f, 1e-3f)]
    public float Tolerance { get; set; }

    public static IEnumerable<MatrixSize> Sizes => [new(1024, 1024), new(2048, 2048)];

    [GlobalSetup]
    public void Setup()
    {
        (Update, WarmStart) = Workloads.UpdateWithWarmStart(Size);
        _options = new PowerIterationOptions { Tolerance = Tolerance, WarmPasses = 0 };
        var exact = TorchTopSingular.Compute(Update, WarmStart, new PowerIterationOptions { Tolerance = 1e-7f, MaxIterations = 100, WarmPasses = 0 });
        var triplet = TorchTopSingular.Compute(Update, WarmStart, _options);
        double cosine = Math.Abs(System.Numerics.Tensors.TensorPrimitives.Dot(triplet.V, exact.V));
        Console.WriteLine($"// tolerance {Tolerance:0e0} at {Size}: {triplet.Iterations} reads of dW, |cos(V, converged V)| = {cosine:0.0000000}, relative s1 error {Math.Abs(triplet.Value - exact.Value) / exact.Value:0.0e0}");
    }

    [Benchmark(Description = "top triplet, warm start")]
    public float TopTripletWarm() => TorchTopSingular.Compute(Update, WarmStart, _options).Value;
}
