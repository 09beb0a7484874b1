using AlphaRl.Extrapolation;

namespace AlphaRl.Tests.Extrapolation;

public class WeightVelocityTests
{
    private const int Dim = 300;

    private static float[] RandomVector(int seed, float scale)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, Dim).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Test]
    public void Slope_IsExact_OnASeriesLinearInEveryWeight()
    {
        var a = RandomVector(1, 0.05f);
        var b = RandomVector(2, 1e-3f);
        long[] steps = [10, 20, 35, 40, 70];
        var velocity = new WeightVelocity();
        velocity.Reset("w", Dim);
        foreach (long t in steps)
            velocity.Add(t, a.Select((x, i) => (float)(x + (double)b[i] * t)).ToArray(), $"step-{t}");
        var slope = new float[Dim];

        velocity.Slope(slope);

        // Inputs are rounded to float; the slope recovers b to float precision relative to the weights' size.
        for (int i = 0; i < Dim; i++) Assert.That(slope[i], Is.EqualTo(b[i]).Within(1e-8), $"element {i}");
    }

    [Test]
    public void Slope_OfANonLinearSeries_IsTheLeastSquaresSlope_ComputedIndependently()
    {
        var a = RandomVector(3, 0.05f);
        var b = RandomVector(4, 1e-3f);
        var c = RandomVector(5, 1e-4f);
        long[] steps = [1000, 1010, 1030, 1060, 1100, 1150];
        var series = steps.Select(t => a.Select((x, i) => (float)(x + b[i] * (t - 1000.0) + c[i] * Math.Sqrt(t - 1000.0) + 3e-3 * Math.Sin(i + t))).ToArray()).ToList();
        var velocity = new WeightVelocity();
        velocity.Reset("w", Dim);
        for (int k = 0; k < steps.Length; k++) velocity.Add(steps[k], series[k], "f");
        var slope = new float[Dim];

        velocity.Slope(slope);

        double meanT = steps.Average();
        double sxx = steps.Sum(t => (t - meanT) * (t - meanT));
        for (int i = 0; i < Dim; i++)
        {
            double meanW = series.Average(w => (double)w[i]);
            double expected = steps.Select((t, k) => (t - meanT) * (series[k][i] - meanW)).Sum() / sxx;
            Assert.That(slope[i], Is.EqualTo(expected).Within(1e-6 * Math.Abs(expected) + 1e-10), $"element {i}");
        }
    }

    [Test]
    public void Slope_Throws_NamingTheTensor_WithFewerThanTwoDistinctSteps()
    {
        var velocity = new WeightVelocity();
        velocity.Reset("model.layers.0.mlp.up_proj.weight", 3);
        velocity.Add(10, [1f, 2f, 3f], "a.safetensors");
        velocity.Add(10, [1f, 2f, 3f], "b.safetensors");

        Assert.That(() => velocity.Slope(new float[3]), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains("model.layers.0.mlp.up_proj.weight").And.Message.Contains("two or more distinct steps"));
    }

    [Test]
    public void Add_Throws_NamingTheTensorAndTheFile_ForANonFiniteWeight()
    {
        var velocity = new WeightVelocity();
        velocity.Reset("lm_head.weight", 4, firstElement: 100);

        Assert.That(() => velocity.Add(20, [0f, 1f, float.NaN, 2f], "runs/step-20/model.safetensors"), Throws.TypeOf<AlphaRLException>()
            .With.Message.Contains("lm_head.weight").And.Message.Contains("runs/step-20/model.safetensors").And.Message.Contains("element 102"));
    }

    [Test]
    public void Reset_StartsAFreshAccumulation_ReusingTheBuffers()
    {
        var velocity = new WeightVelocity();
        velocity.Reset("x", 2);
        velocity.Add(0, [5f, 5f], "f");
        velocity.Add(1, [9f, 9f], "f");
        velocity.Reset("y", 1);
        velocity.Add(0, [1f], "f");
        velocity.Add(2, [2f], "f");
        var slope = new float[1];

        velocity.Slope(slope);

        Assert.That(slope[0], Is.EqualTo(0.5f));
    }

    [Test]
    public void DirectionScale_ContinuesTheStepFromTheBase()
    {
        Assert.That(LinearWeightJump.DirectionScale(0, 40, 100), Is.EqualTo(1.5));
    }
}
