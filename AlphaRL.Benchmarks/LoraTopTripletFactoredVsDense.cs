using AlphaRl.Linalg;
using BenchmarkDotNet.Attributes;

namespace AlphaRl.Benchmarks;

/// <summary>
/// The top singular triplet and Frobenius norm of a LoRA update ΔW = scale · B A (B out × r, A r × in), as
/// <c>alpharl analyze</c> needs them per target module and checkpoint: from the factors (<see cref="LowRankTopSingular"/>:
/// QR of B and Aᵀ, SVD of the r × r core) against forming ΔW and running the power iteration on it, cold and converged,
/// as the dense path does. Dense is the baseline, so Ratio = 1 / speedup.
/// </summary>
[Config(typeof(ShortNoisyConfig))]
public class LoraTopTripletFactoredVsDense
{
    private float[] _a = null!, _b = null!, _dense = null!;

    [ParamsSource(nameof(Sizes))]
    public MatrixSize Size { get; set; }

    /// <summary>The LoRA rank r.</summary>
    [Params(16)]
    public int Rank { get; set; }

    public static IEnumerable<MatrixSize> Sizes => [new(1024, 1024), new(4096, 4096)];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _a = Enumerable.Range(0, Rank * Size.Cols).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        _b = Enumerable.Range(0, Size.Rows * Rank).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        _dense = new float[Size.Rows * Size.Cols];
    }

    [Benchmark(Baseline = true, Description = "form scale·B A, then power iteration")]
    public float Dense()
    {
        int rows = Size.Rows, cols = Size.Cols;
        Array.Clear(_dense);
        for (int o = 0; o < rows; o++)
        {
            var row = _dense.AsSpan(o * cols, cols);
            for (int k = 0; k < Rank; k++)
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(_a.AsSpan(k * cols, cols), 2f * _b[o * Rank + k], row, row);
        }
        return TopSingular.Compute(_dense, rows, cols, options: PowerIterationOptions.Converged).Value;
    }

    [Benchmark(Description = "from the factors (QR + r × r core)")]
    public float Factored() => LowRankTopSingular.Compute(_b, _a, Size.Rows, Size.Cols, Rank, 2.0).Value;
}
