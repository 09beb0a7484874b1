using AlphaRl.Linalg;
using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp.Linalg;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Linalg;

/// <summary>The difference kernels: the top triplet and norm of W_t − W0 read from W_t and W0, never formed.</summary>
public class TopSingularDifferenceTests
{
    // Small (one thread), over 512 K values (two threads), rows not a multiple of the chunk, columns not of the SIMD width.
    private static readonly object[] Shapes = [new[] { 61, 37 }, new[] { 1027, 517 }];

    private static (float[] Current, float[] Initial, float[] Update) Pair(int rows, int cols, int seed)
    {
        var update = Synthetic.LowRankPlusNoise(rows, cols, seed);
        var random = new Random(seed + 1);
        var initial = new float[update.Length];
        for (int i = 0; i < initial.Length; i++) initial[i] = Synthetic.Gaussian(random);
        var current = initial.Zip(update, (a, b) => a + b).ToArray();
        // The update as float32 sees it: (W0 + dW) − W0.
        var exact = current.Zip(initial, (a, b) => a - b).ToArray();
        return (current, initial, exact);
    }

    private static double Norm(float[] values) => Math.Sqrt(values.Sum(x => (double)x * x));

    [TestCaseSource(nameof(Shapes))]
    public void Float32Difference_MatchesTheRoutineOnTheFormedUpdate(int rows, int cols)
    {
        var (current, initial, update) = Pair(rows, cols, rows + cols);

        var expected = TopSingular.Compute(update, rows, cols);
        var triplet = TopSingular.ComputeOfDifference(current, initial, rows, cols);

        Assert.That(triplet.Converged, Is.True);
        Assert.That(triplet.Value, Is.EqualTo(expected.Value).Within(1e-5).Percent);
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.U, expected.U)), Is.GreaterThanOrEqualTo(0.99999));
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, expected.V)), Is.GreaterThanOrEqualTo(0.99999));
        Assert.That(triplet.MatrixNorm, Is.EqualTo(Norm(update)).Within(1e-5).Percent);
        Assert.That(expected.MatrixNorm, Is.EqualTo(Norm(update)).Within(1e-5).Percent);
    }

    [TestCaseSource(nameof(Shapes))]
    public void BFloat16Difference_MatchesTheRoutineOnTheWidenedUpdate(int rows, int cols)
    {
        var (current, initial, _) = Pair(rows, cols, 3 * rows + cols);
        using var scope = NewDisposeScope();
        var wt = tensor(current).reshape(rows, cols).to(ScalarType.BFloat16);
        var w0 = tensor(initial).reshape(rows, cols).to(ScalarType.BFloat16);
        var update = Synthetic.ToArray(wt.to(ScalarType.Float32) - w0.to(ScalarType.Float32));

        var expected = TopSingular.Compute(update, rows, cols);
        var triplet = TorchTopSingular.ComputeOfDifference(wt, w0);

        Assert.That(triplet.Value, Is.EqualTo(expected.Value).Within(1e-5).Percent);
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, expected.V)), Is.GreaterThanOrEqualTo(0.99999));
        Assert.That(triplet.MatrixNorm, Is.EqualTo(Norm(update)).Within(1e-5).Percent);
    }

    [Test]
    public void WeightsNearTheTopOfTheFloatRange_GiveTheRightTriplet_OrADataErrorWhenS1CannotBeRepresented()
    {
        // W0 ~ 1e37 and dW ~ 1e35: every value is finite but the squares in AᵀA overflow float32.
        var a = Synthetic.LowRankPlusNoise(24, 16, seed: 8);
        var random = new Random(2);
        var initial = a.Select(_ => 1e37f * Synthetic.Gaussian(random)).ToArray();
        var current = initial.Zip(a, (w, d) => w + 1e35f * d).ToArray();
        var update = current.Zip(initial, (x, y) => (float)(((double)x - y) / 1e35)).ToArray();
        var expected = TopSingular.Compute(update, 24, 16);

        var triplet = TopSingular.ComputeOfDifference(current, initial, 24, 16, default, PowerIterationOptions.Converged);

        Assert.That(triplet.Value / 1e35, Is.EqualTo(expected.Value).Within(1e-4).Percent);
        Assert.That(triplet.MatrixNorm / 1e35, Is.EqualTo(Norm(update)).Within(1e-4).Percent);
        Assert.That(Math.Abs(Synthetic.Cosine(triplet.V, expected.V)), Is.GreaterThanOrEqualTo(0.9999));
        // W_t = +MaxValue, W0 = −MaxValue: both finite, the update is 2·MaxValue and s1 beyond float32.
        Assert.That(() => TopSingular.ComputeOfDifference([float.MaxValue], [-float.MaxValue], 1, 1),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("float32 range"));
    }

    [Test]
    public void NaNOrInfinityInEitherMatrix_IsADataError()
    {
        var (current, initial, _) = Pair(12, 9, 4);
        initial[7] = float.NaN;
        Assert.That(() => TopSingular.ComputeOfDifference(current, initial, 12, 9), Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN or infinity"));
        initial[7] = 0f;
        current[3] = float.PositiveInfinity;
        Assert.That(() => TopSingular.ComputeOfDifference(current, initial, 12, 9), Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN or infinity"));
        Assert.That(() => TopSingular.ComputeOfDifference(current, new float[5], 12, 9), Throws.ArgumentException);
    }

    [Test]
    public void WarmStart_SpendsTheFixedPassBudget_AndOnePassIsAPowerStep()
    {
        var (current, initial, update) = Pair(80, 60, 11);
        var start = TopSingular.Compute(Synthetic.LowRankPlusNoise(80, 60, seed: 11, noise: 0.05f), 80, 60).V;
        var exact = TopSingular.Compute(update, 80, 60);

        var two = TopSingular.ComputeOfDifference(current, initial, 80, 60, start, new PowerIterationOptions { WarmPasses = 2 });
        var byDefault = TopSingular.ComputeOfDifference(current, initial, 80, 60, start);
        var one = TopSingular.ComputeOfDifference(current, initial, 80, 60, start, new PowerIterationOptions { WarmPasses = 1 });
        var converged = TopSingular.ComputeOfDifference(current, initial, 80, 60, start, PowerIterationOptions.Converged);

        Assert.That((one.Iterations, two.Iterations), Is.EqualTo((1, 2)));
        Assert.That(byDefault.Iterations, Is.EqualTo(PowerIterationOptions.Default.WarmPasses));
        Assert.That(converged.Iterations, Is.GreaterThan(PowerIterationOptions.Default.WarmPasses));
        // One power step from the start: V = G v / ‖G v‖ with G = dWᵀ dW.
        var gv = new float[60];
        for (int i = 0; i < 80; i++)
        {
            double dot = 0;
            for (int j = 0; j < 60; j++) dot += update[i * 60 + j] * start[j];
            for (int j = 0; j < 60; j++) gv[j] += (float)(dot * update[i * 60 + j]);
        }
        Assert.That(Synthetic.Cosine(one.V, gv), Is.GreaterThanOrEqualTo(0.99999));
        // Each pass brings V closer to the exact one.
        double startAngle = 1 - Math.Abs(Synthetic.Cosine(start, exact.V));
        Assert.That(1 - Math.Abs(Synthetic.Cosine(one.V, exact.V)), Is.LessThan(startAngle));
        Assert.That(1 - Math.Abs(Synthetic.Cosine(two.V, exact.V)), Is.LessThan(1 - Math.Abs(Synthetic.Cosine(one.V, exact.V))));
    }

    [Test]
    public void ANormBeyondTheFloatRange_WithS1Inside_IsADataError_OnEveryPath()
    {
        // dW = 2e38·I (4×4): s1 = 2e38 fits float32, ‖dW‖_F = 4e38 does not; the norm follows the rule of s1.
        const int n = 4;
        var current = new float[n * n];
        var initial = new float[n * n];
        for (int i = 0; i < n; i++) { current[i * n + i] = 1e38f; initial[i * n + i] = -1e38f; }
        var update = current.Zip(initial, (a, b) => a - b).ToArray();
        using var scope = NewDisposeScope();
        Tensor wt = tensor(current).reshape(n, n), w0 = tensor(initial).reshape(n, n);

        Assert.That(() => TopSingular.ComputeOfDifference(current, initial, n, n), Throws.TypeOf<AlphaRLException>().With.Message.Contains("Frobenius norm"));
        // The plain routine's contract is the triplet: it reports the norm as not available.
        var plain = TopSingular.Compute(update, n, n);
        Assert.That(plain.Value, Is.EqualTo(2e38).Within(1e-4).Percent);
        Assert.That(plain.MatrixNorm, Is.NaN);
        Assert.That(() => TorchTopSingular.ComputeOfDifferenceWithTorchOps(wt, w0, default, PowerIterationOptions.Default),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("Frobenius norm"));
        // Half the update: norm 2e38 and s1 1e38 are both representable.
        var half = TopSingular.ComputeOfDifference(current, current.Select(x => x / 2).ToArray(), n, n);
        Assert.That(half.MatrixNorm, Is.EqualTo(1e38).Within(1e-4).Percent);
    }

    [Test]
    public void DevicePath_OfTheDifference_MatchesTheSpanKernel_ColdAndWarm()
    {
        var (current, initial, update) = Pair(90, 70, 21);
        using var scope = NewDisposeScope();
        var wt = tensor(current).reshape(90, 70);
        var w0 = tensor(initial).reshape(90, 70);
        var exact = TopSingular.Compute(update, 90, 70);

        var cold = TorchTopSingular.ComputeOfDifferenceWithTorchOps(wt, w0, default, PowerIterationOptions.Default);
        var start = TopSingular.Compute(Synthetic.LowRankPlusNoise(90, 70, seed: 21, noise: 0.03f), 90, 70).V;
        var warm = TorchTopSingular.ComputeOfDifferenceWithTorchOps(wt, w0, start, PowerIterationOptions.Default);

        Assert.That(cold.Converged, Is.True);
        Assert.That(cold.Value, Is.EqualTo(exact.Value).Within(1e-3).Percent);
        Assert.That(Math.Abs(Synthetic.Cosine(cold.V, exact.V)), Is.GreaterThanOrEqualTo(0.9999));
        Assert.That(cold.MatrixNorm, Is.EqualTo(Norm(update)).Within(1e-4).Percent);
        Assert.That(warm.Iterations, Is.EqualTo(PowerIterationOptions.Default.WarmPasses));
        Assert.That(1 - Math.Abs(Synthetic.Cosine(warm.V, exact.V)), Is.LessThan(1 - Math.Abs(Synthetic.Cosine(start, exact.V))));
        var nan = tensor(initial.Select((x, i) => i == 5 ? float.NaN : x).ToArray()).reshape(90, 70);
        Assert.That(() => TorchTopSingular.ComputeOfDifferenceWithTorchOps(wt, nan, start, PowerIterationOptions.Default),
            Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN or infinity"));
    }
}
