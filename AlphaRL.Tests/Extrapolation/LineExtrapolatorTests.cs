using AlphaRl.Extrapolation;
using AlphaRl.Tests.Support;
using AlphaRl.Tracking;

namespace AlphaRl.Tests.Extrapolation;

public class LineExtrapolatorTests
{
    private const int Dim = 200;
    private static readonly Random Random = new(2024);
    private readonly float[] _a = Synthetic.UnitVector(Dim, new Random(1)).Select(x => x * 0.5f).ToArray();
    private readonly float[] _b = Synthetic.UnitVector(Dim, new Random(2)).Select(x => x * 0.1f).ToArray();
    private readonly float[] _v = Synthetic.UnitVector(64, new Random(3));

    private List<Rank1Snapshot> LinearWithNoise(int count, float noise, int seed)
    {
        var random = new Random(seed);
        return Trajectories.Record(Trajectories.Steps(count).Select(t =>
            (t, Trajectories.Line(_a, _b, t).Select(x => x + noise * Synthetic.Gaussian(random)).ToArray())), _v);
    }

    [Test]
    public void LinearTrajectoryWithNoise_IsPredictedAtThreeTimesTheWindow_WithinTwoPercent()
    {
        var window = LinearWithNoise(count: 8, noise: 0.003f, seed: 7); // steps 5..40
        var extrapolator = new StepLineExtrapolator();

        var fit = extrapolator.Fit("m", window);
        var predicted = extrapolator.Predict(fit, targetStep: 120);

        Assert.That(Trajectories.RelativeError(predicted, Trajectories.Line(_a, _b, 120)), Is.LessThanOrEqualTo(0.02));
        Assert.That(fit.HoldOut.RelativeError, Is.LessThan(0.02));
        Assert.That(fit.HoldOut.Cosine, Is.GreaterThan(0.999));
    }

    [Test]
    public void ExactLine_HasAnOutOfSampleError_AtFloatPrecision()
    {
        var window = LinearWithNoise(count: 8, noise: 0f, seed: 7);

        var fit = new StepLineExtrapolator().Fit("m", window);

        // Formed from direct differences, the error of an exact line is float rounding, not a cancellation floor.
        Assert.That(fit.HoldOut.RelativeError, Is.LessThan(1e-5));
        Assert.That(fit.HoldOut.Cosine, Is.EqualTo(1).Within(1e-6));
    }

    [Test]
    public void CurvedTrajectory_IsFlaggedByOutOfSampleError()
    {
        var c = Synthetic.UnitVector(Dim, new Random(4)).Select(x => x * 0.02f).ToArray();
        var window = Trajectories.Record(Trajectories.Steps(8).Select(t =>
            (t, Trajectories.Line(_a, _b, t).Select((x, i) => (float)(x + c[i] * t * t)).ToArray())), _v);

        var fit = new StepLineExtrapolator().Fit("m", window);

        Assert.That(fit.HoldOut.RelativeError, Is.GreaterThan(0.10), "a quadratic path must not pass the default fit threshold");
    }

    [Test]
    public void PureNoiseTrajectory_IsFlaggedByOutOfSampleError()
    {
        var random = new Random(11);
        var window = Trajectories.Record(Trajectories.Steps(8).Select(t =>
            (t, Synthetic.UnitVector(Dim, random).Select(x => x * 3f).ToArray())), _v);

        var fit = new StepLineExtrapolator().Fit("m", window);

        Assert.That(fit.HoldOut.RelativeError, Is.GreaterThan(0.5));
        Assert.That(Math.Abs(fit.HoldOut.Cosine), Is.LessThan(0.5));
    }

    [Test]
    public void RotatingRightVector_LowersTheHeldOutCosine()
    {
        var v2 = Synthetic.UnitVector(64, new Random(5));
        var window = Trajectories.Record(Trajectories.Steps(4).Select(t => (t, Trajectories.Line(_a, _b, t))), _v);
        var tracker = new SubspaceTracker();
        foreach (var s in window.Take(3)) tracker.Record("m", s.Step, new AlphaRl.Linalg.SingularTriplet(s.Sigma, s.U, s.V, 1, true));
        tracker.Record("m", 20, Trajectories.Triplet(Trajectories.Line(_a, _b, 20), v2));

        var fit = new StepLineExtrapolator().Fit("m", tracker.Snapshots("m"));

        Assert.That(fit.HoldOut.Cosine, Is.LessThan(0.5), "a prediction along the old v does not match an update along a new v");
    }

    [Test]
    public void MetricPls_WithMetricLinearInStep_AgreesWithStepLine()
    {
        var window = LinearWithNoise(count: 6, noise: 0.003f, seed: 8);
        var metric = window.ToDictionary(s => s.Step, s => 0.3 + 0.002 * s.Step);
        var byStep = new StepLineExtrapolator();
        var byMetric = new MetricPlsExtrapolator(metric, targetMetric: 0.3 + 0.002 * 90);

        var expected = byStep.Predict(byStep.Fit("m", window), 90);
        var actual = byMetric.Predict(byMetric.Fit("m", window), 90);

        Assert.That(Trajectories.RelativeError(actual, expected), Is.LessThan(1e-4));
    }

    [Test]
    public void MetricPls_WithoutMetricAtASnapshotStep_SaysWhichStep()
    {
        var window = LinearWithNoise(count: 4, noise: 0f, seed: 1);
        var pls = new MetricPlsExtrapolator(new Dictionary<long, double> { [5] = 0.1 }, 0.5);
        Assert.That(() => pls.Fit("m", window), Throws.TypeOf<AlphaRLException>().With.Message.Contains("step 10"));
    }

    [Test]
    public void EmptyOrShortWindow_IsRejectedWithTheCount()
    {
        var extrapolator = new StepLineExtrapolator();
        Assert.That(() => extrapolator.Fit("layers.0.q_proj", []), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains("at least 3").And.Message.Contains("has 0").And.Message.Contains("layers.0.q_proj"));
        Assert.That(() => extrapolator.Fit("m", LinearWithNoise(2, 0f, 1)), Throws.TypeOf<AlphaRLException>().With.Message.Contains("has 2"));
    }

    [Test]
    public void TargetBeforeTheWindowEnd_IsRejected()
    {
        var extrapolator = new StepLineExtrapolator();
        var fit = extrapolator.Fit("m", LinearWithNoise(4, 0f, 1)); // last step 20
        Assert.That(() => extrapolator.Predict(fit, 15), Throws.TypeOf<AlphaRLException>().With.Message.Contains("before the end of the window"));
    }

    [Test]
    public void MismatchedSnapshotShapes_AreRejected()
    {
        var window = LinearWithNoise(3, 0f, 1);
        window.Add(new Rank1Snapshot(99, 1f, new float[Dim + 1], _v));
        Assert.That(() => new StepLineExtrapolator().Fit("m", window), Throws.TypeOf<AlphaRLException>().With.Message.Contains("change shape"));
    }

    [Test]
    public void NonFiniteSnapshot_IsRejected()
    {
        var window = LinearWithNoise(3, 0f, 1);
        var bad = new float[Dim];
        bad[3] = float.PositiveInfinity;
        window.Add(new Rank1Snapshot(99, 1f, bad, _v));
        Assert.That(() => new StepLineExtrapolator().Fit("m", window), Throws.TypeOf<AlphaRLException>().With.Message.Contains("NaN or infinity"));
    }

    [Test]
    public void Rank1Jump_IncrementForm_AddsOnlyTheChangeOfTheComponent()
    {
        var window = LinearWithNoise(4, 0f, 1);
        var extrapolator = new StepLineExtrapolator();
        var fit = extrapolator.Fit("m", window);
        var xHat = extrapolator.Predict(fit, 40);
        var weights = new float[Dim * 64];

        Rank1Jump.Apply(weights, Dim, 64, Rank1Jump.Coefficients(fit, xHat, JumpForm.Increment), fit.LastV);

        // W_e = 0 here, so W_pred = (x(40) − x(20)) vᵀ = 20 b vᵀ.
        for (int i = 0; i < Dim; i += 37)
            for (int j = 0; j < 64; j += 13)
                Assert.That(weights[i * 64 + j], Is.EqualTo(20 * _b[i] * _v[j]).Within(1e-5));
    }
}
