using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp.Linalg;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Linalg;

/// <summary>The fast paths of the top-triplet kernel: two-thread row blocks, row and column remainders, bf16 widening.</summary>
public class TopSingularKernelTests
{
    // Over 512 K values (read by two threads), odd row counts (uneven blocks, rows not a multiple of four) and
    // column counts that are not a multiple of the SIMD width.
    private static readonly object[] LargeShapes = [new[] { 1027, 517 }, new[] { 513, 1031 }];

    [TestCaseSource(nameof(LargeShapes))]
    public void SpanRoutine_MatchesFullSvd_OnMatricesReadByTwoThreads(int rows, int cols)
    {
        var a = Synthetic.LowRankPlusNoise(rows, cols, seed: rows + cols);
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(tensor(a).reshape(rows, cols), fullMatrices: false);

        var triplet = TopSingular.Compute(a, rows, cols);

        Assert.That(triplet.Converged, Is.True);
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, Synthetic.ToArray(u[.., 0]))), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, Synthetic.ToArray(vh[0]))), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(triplet.Value - s[0].item<float>()) / s[0].item<float>(), Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void BFloat16Widening_MatchesLibTorchConversion_BitForBit()
    {
        using var scope = NewDisposeScope();
        var values = randn(1001).to(ScalarType.BFloat16);
        var bits = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(values.bytes);
        var widened = new float[bits.Length];

        TorchTopSingular.WidenBFloat16(bits, widened);

        Assert.That(widened, Is.EqualTo(Synthetic.ToArray(values)));
    }

    [Test]
    public void TopEigenvector_OfSmallSymmetricMatrix_BelongsToTheLargestEigenvalue()
    {
        // Eigenvalues 4, 2, 1 with the top eigenvector (1, 1, 0)/√2.
        var m = new double[,] { { 3, 1, 0 }, { 1, 3, 0 }, { 0, 0, 1 } };

        var y = TopSingular.TopEigenvector(m);

        Assert.That(Math.Abs(y[0]), Is.EqualTo(1 / Math.Sqrt(2)).Within(1e-12));
        Assert.That(Math.Abs(y[1]), Is.EqualTo(1 / Math.Sqrt(2)).Within(1e-12));
        Assert.That(y[2], Is.EqualTo(0).Within(1e-12));
    }
}
