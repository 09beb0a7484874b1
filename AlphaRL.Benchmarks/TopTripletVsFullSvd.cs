using AlphaRl.TorchSharp.Linalg;
using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks;

/// <summary>
/// What the released research scripts pay per matrix per checkpoint (a full thin SVD, torch.linalg.svd) against
/// AlphaRL's top triplet on the same fp32 update. SVD is the baseline, so Ratio = 1 / speedup.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class TopTripletVsFullSvd
{
    private Tensor _update = null!;
    private float[] _warmStart = null!;

    [ParamsSource(nameof(Sizes))]
    public MatrixSize Size { get; set; }

    public static IEnumerable<MatrixSize> Sizes => Workloads.Sizes;

    [GlobalSetup]
    public void Setup()
    {
        (_update, _warmStart) = Workloads.UpdateWithWarmStart(Size);
    }

    [GlobalCleanup]
    public void Cleanup() => _update.Dispose();

    [Benchmark(Baseline = true, Description = "full SVD (linalg.svd)")]
    public float FullSvd()
    {
        using var scope = NewDisposeScope();
        var (_, s, _) = linalg.svd(_update, fullMatrices: false);
        return s[0].AsSingle();
    }

    [Benchmark(Description = "top triplet, warm start")]
    public float TopTripletWarm() => TorchTopSingular.Compute(_update, _warmStart).Value;

    [Benchmark(Description = "top triplet, cold start")]
    public float TopTripletCold() => TorchTopSingular.Compute(_update).Value;
}
