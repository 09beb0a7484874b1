using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp.Linalg;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Linalg;

public class TopSingularTests
{
    private static readonly object[] Shapes = [new[] { 96, 40 }, new[] { 40, 96 }, new[] { 64, 64 }, new[] { 200, 17 }];

    private static (float S, float[] U, float[] V) Reference(float[] a, int rows, int cols)
    {
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(tensor(a).reshape(rows, cols), fullMatrices: false);
        return (s[0].item<float>(), Synthetic.ToArray(u[.., 0]), Synthetic.ToArray(vh[0]));
    }

    [TestCaseSource(nameof(Shapes))]
    public void SpanRoutine_MatchesFullSvd_OnLowRankPlusNoise(int rows, int cols)
    {
        var a = Synthetic.LowRankPlusNoise(rows, cols, seed: rows * 31 + cols);
        var expected = Reference(a, rows, cols);

        var triplet = TopSingular.Compute(a, rows, cols);

        Assert.That(triplet.Converged, Is.True);
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, expected.U)), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, expected.V)), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(triplet.Value - expected.S) / expected.S, Is.LessThanOrEqualTo(1e-4));
    }

    [TestCaseSource(nameof(Shapes))]
    public void TorchRoutine_MatchesFullSvd_OnLowRankPlusNoise(int rows, int cols)
    {
        var a = Synthetic.LowRankPlusNoise(rows, cols, seed: rows * 17 + cols);
        var expected = Reference(a, rows, cols);
        using var matrix = tensor(a).reshape(rows, cols);

        var triplet = TorchTopSingular.Compute(matrix);

        Assert.That(triplet.Converged, Is.True);
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, expected.U)), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, expected.V)), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(triplet.Value - expected.S) / expected.S, Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void TorchRoutine_OnBFloat16Matrix_ComputesInFloat32()
    {
        var a = Synthetic.LowRankPlusNoise(48, 32, seed: 5);
        using var matrix = tensor(a).reshape(48, 32).to(ScalarType.BFloat16);
        var expected = Reference(Synthetic.ToArray(matrix), 48, 32);

        var triplet = TorchTopSingular.Compute(matrix);

        Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, expected.U)), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(Math.Abs(triplet.Value - expected.S) / expected.S, Is.LessThanOrEqualTo(1e-4));
    }

    [Test]
    public void WarmStart_FromNearbyMatrix_NeedsFewerIterations()
    {
        var a = Synthetic.LowRankPlusNoise(80, 60, seed: 9);
        var b = (float[])a.Clone();
        var random = new Random(3);
        for (int i = 0; i < b.Length; i++) b[i] += 0.01f * Synthetic.Gaussian(random);

        var cold = TopSingular.Compute(b, 80, 60);
        var warm = TopSingular.Compute(b, 80, 60, TopSingular.Compute(a, 80, 60).V);

        Assert.That(warm.Iterations, Is.LessThan(cold.Iterations));
        Assert.That(Math.Abs(Synthetic.Cosine(warm.V, cold.V)), Is.GreaterThanOrEqualTo(0.9999));
    }

    [Test]
    public void SpanRoutine_RejectsNaN_AndWrongShapes()
    {
        var a = Synthetic.LowRankPlusNoise(8, 8, seed: 1);
        a[5] = float.NaN;
        Assert.That(() => TopSingular.Compute(a, 8, 8), Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN"));
        a[5] = float.NegativeInfinity;
        Assert.That(() => TopSingular.Compute(a, 8, 8), Throws.TypeOf<AlphaRLException>().With.Message.Contains("infinity"));
        Assert.That(() => TopSingular.Compute(new float[10], 3, 3), Throws.ArgumentException.With.Message.Contains("3×3"));
        Assert.That(() => TopSingular.Compute(new float[9], 3, 3, new float[2]), Throws.ArgumentException.With.Message.Contains("Warm-start"));
    }

    [Test]
    public void ZeroMatrix_HasZeroSingularValue()
    {
        var triplet = TopSingular.Compute(new float[12], 3, 4);
        Assert.That(triplet.Value, Is.EqualTo(0f));
    }

    [TestCase(1e16f)]
    [TestCase(1e30f)]
    [TestCase(1e-30f)]
    public void FiniteValuesOfAnyMagnitude_GiveTheTripletOfTheScaledMatrix(float scale)
    {
        var a = Synthetic.LowRankPlusNoise(64, 40, seed: 4);
        var expected = Reference(a, 64, 40);
        var scaled = a.Select(x => x * scale).ToArray();
        using var matrix = tensor(scaled).reshape(64, 40);

        foreach (var triplet in new[] { TopSingular.Compute(scaled, 64, 40), TorchTopSingular.ComputeWithTorchOps(matrix, default, PowerIterationOptions.Default) })
        {
            Assert.That(float.IsFinite(triplet.Value), Is.True);
            Assert.That(Math.Abs(triplet.Value / scale - expected.S) / expected.S, Is.LessThanOrEqualTo(1e-4));
            Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, expected.U)), Is.GreaterThanOrEqualTo(0.9999));
            Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, expected.V)), Is.GreaterThanOrEqualTo(0.9999));
        }
        Assert.That(TopSingular.FrobeniusNorm(scaled) / scale, Is.EqualTo(TopSingular.FrobeniusNorm(a)).Within(1e-4).Percent);
    }

    [Test]
    public void ValuesUpToFloatMaxValue_GiveTheExactTriplet()
    {
        var a = new float[9];
        a[0] = float.MaxValue;
        a[4] = float.MaxValue / 2;
        a[8] = 1f;
        using var matrix = tensor(a).reshape(3, 3);

        foreach (var triplet in new[] { TopSingular.Compute(a, 3, 3), TorchTopSingular.ComputeWithTorchOps(matrix, default, PowerIterationOptions.Default) })
        {
            Assert.That(triplet.Value, Is.EqualTo(float.MaxValue).Within(1e-5).Percent);
            Assert.That(Math.Abs(triplet.U[0]), Is.EqualTo(1f).Within(1e-5));
            Assert.That(Math.Abs(triplet.V[0]), Is.EqualTo(1f).Within(1e-5));
        }
    }

    [Test]
    public void SingularValueBeyondTheFloatRange_IsADataError_NotInfinity()
    {
        var a = Enumerable.Repeat(float.MaxValue, 16).ToArray();
        Assert.That(() => TopSingular.Compute(a, 4, 4), Throws.TypeOf<AlphaRLException>().With.Message.Contains("float32 range"));
    }

    [Test]
    public void DevicePath_ReportsNaNAndInfinity_AsDataErrors()
    {
        var a = Synthetic.LowRankPlusNoise(8, 8, seed: 2);
        a[3] = float.PositiveInfinity;
        using var matrix = tensor(a).reshape(8, 8);
        Assert.That(() => TorchTopSingular.ComputeWithTorchOps(matrix, default, PowerIterationOptions.Default),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN or infinity"));
        Assert.That(() => TorchTopSingular.Compute(matrix), Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN or infinity"));
    }
}
