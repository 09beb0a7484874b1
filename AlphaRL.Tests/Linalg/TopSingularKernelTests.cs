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

    // One thread and two, rows not a multiple of four, columns a multiple of 16, of 8 but not 16, and of neither.
    private static readonly object[] ExactShapes = [new[] { 61, 37 }, new[] { 64, 40 }, new[] { 300, 1032 }, new[] { 1027, 517 }, new[] { 513, 1031 }];

    /// <summary>The difference kernels form W_t − W0 inside their loops; they must run the dense kernel's operations in
    /// its order, so that a snapshot's bits do not depend on the path (nor change when the loops are made faster).</summary>
    [TestCaseSource(nameof(ExactShapes))]
    public void DifferenceKernels_GiveTheBitsOfTheKernelOnTheFormedUpdate_ColdAndWarm(int rows, int cols)
    {
        var random = new Random(rows * 31 + cols);
        var initial = new float[rows * cols];
        var current = new float[rows * cols];
        for (int i = 0; i < current.Length; i++)
        {
            initial[i] = Synthetic.Gaussian(random);
            current[i] = initial[i] + 0.01f * Synthetic.Gaussian(random) * (i / cols % 7 + 1) * (i % cols % 5 + 1);
        }
        var formed = current.Zip(initial, (a, b) => a - b).ToArray();
        var currentBits = current.Select(BFloat16Bits).ToArray();
        var initialBits = initial.Select(BFloat16Bits).ToArray();
        var formedWidened = currentBits.Zip(initialBits, (a, b) => Widened(a) - Widened(b)).ToArray();
        var warm = Synthetic.UnitVector(cols, random);

        foreach (var start in new[] { default, warm })
        {
            AssertSameBits(TopSingular.ComputeOfDifference(current, initial, rows, cols, start), TopSingular.Compute(formed, rows, cols, start));
            AssertSameBits(TopSingular.ComputeOfDifferenceBFloat16(currentBits, initialBits, rows, cols, start),
                TopSingular.Compute(formedWidened, rows, cols, start));
        }

        static ushort BFloat16Bits(float x) => (ushort)(BitConverter.SingleToUInt32Bits(x) >> 16);
        static float Widened(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
        static void AssertSameBits(SingularTriplet actual, SingularTriplet expected)
        {
            Assert.That(actual.Iterations, Is.EqualTo(expected.Iterations));
            Assert.That(BitConverter.SingleToUInt32Bits(actual.Value), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected.Value)));
            Assert.That(BitConverter.SingleToUInt32Bits(actual.MatrixNorm), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected.MatrixNorm)));
            Assert.That(actual.U.Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.U.Select(BitConverter.SingleToUInt32Bits)));
            Assert.That(actual.V.Select(BitConverter.SingleToUInt32Bits), Is.EqualTo(expected.V.Select(BitConverter.SingleToUInt32Bits)));
        }
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
