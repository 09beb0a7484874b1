using AlphaRl.Extrapolation;

namespace AlphaRl.Tests.Extrapolation;

public class PathDiagnosticsTests
{
    /// <summary>The exact Gram matrix ⟨D_a, D_b⟩ of explicit update vectors.</summary>
    private static double[] Gram(double[][] d)
    {
        int n = d.Length;
        var g = new double[n * n];
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++)
                g[a * n + b] = d[a].Zip(d[b], (x, y) => x * y).Sum();
        return g;
    }

    [Test]
    public void StraightPathAtConstantSpeed_HasTrendOneAndCosineOne()
    {
        var d = Enumerable.Range(0, 6).Select(t => new[] { 2.0 * t, -1.0 * t, 0.5 * t }).ToArray();
        var p = PathDiagnostics.FromGram(Gram(d), [10, 20, 30, 40, 50, 60], 0.7, 0.01);

        Assert.That(p.StepNormTrend, Is.EqualTo(1).Within(1e-12));
        Assert.That(p.VelocityCosine, Is.EqualTo(1).Within(1e-12));
        Assert.That(p.Rank1EnergyShare, Is.EqualTo(0.7));
        Assert.That(p.HeldOutFitError, Is.EqualTo(0.01));
        Assert.That(p.Bends(0.9, 0.5), Is.Null);
    }

    [Test]
    public void PathThatHalvesItsSpeed_HasTrendOneHalf_AndStaysStraight()
    {
        // Steps 2, 2, 1, 1: the second half moves half as far per step; velocities 2 then 1, same direction.
        double[][] d = [[0], [2], [4], [5], [6]];
        var p = PathDiagnostics.FromGram(Gram(d), [0, 1, 2, 3, 4]);

        Assert.That(p.StepNormTrend, Is.EqualTo(0.5).Within(1e-12));
        Assert.That(p.VelocityCosine, Is.EqualTo(1).Within(1e-12));
        Assert.That(p.Bends(0.9, 0.6), Does.Contain("step-norm trend"));
    }

    [Test]
    public void PathThatTurnsARightAngle_HasCosineZero_AndTheCosineRefuses()
    {
        double[][] d = [[0, 0], [1, 0], [1, 1]];
        var p = PathDiagnostics.FromGram(Gram(d), [0, 1, 2]);

        Assert.That(p.StepNormTrend, Is.EqualTo(1).Within(1e-12));
        Assert.That(p.VelocityCosine, Is.EqualTo(0).Within(1e-12));
        Assert.That(p.Bends(0.9, 0.5), Does.Contain("velocity cosine"));
    }

    [Test]
    public void PathThatReverses_HasCosineMinusOne_AndStepNormsPerTrainingStep()
    {
        // Uneven steps: 3 per 3 steps then 1 per step, then back by 1 per step and 1 per step.
        double[][] d = [[0], [3], [4], [3], [2]];
        var p = PathDiagnostics.FromGram(Gram(d), [0, 3, 4, 5, 6]);

        Assert.That(p.StepNormTrend, Is.EqualTo(1).Within(1e-12));
        Assert.That(p.VelocityCosine, Is.EqualTo(-1).Within(1e-12));
    }

    [Test]
    public void Figures_DoNotDependOnTheReferenceTheUpdatesAreTakenFrom()
    {
        double[][] d = [[0, 0], [1, 0.2], [1.8, 0.7], [2.4, 1.5], [2.9, 2.4]];
        var shifted = d.Select(x => new[] { x[0] + 5, x[1] - 3 }).ToArray();
        long[] steps = [2, 4, 6, 8, 10];
        var a = PathDiagnostics.FromGram(Gram(d), steps);
        var b = PathDiagnostics.FromGram(Gram(shifted), steps);

        Assert.That(b.StepNormTrend, Is.EqualTo(a.StepNormTrend).Within(1e-9));
        Assert.That(b.VelocityCosine, Is.EqualTo(a.VelocityCosine).Within(1e-9));
    }

    [Test]
    public void NoMovement_GivesNaN_WhichNeverRefuses()
    {
        var p = PathDiagnostics.FromGram(new double[9], [1, 2, 3]);
        Assert.That(double.IsNaN(p.StepNormTrend) && double.IsNaN(p.VelocityCosine), Is.True);
        Assert.That(p.Bends(0.9, 0.5), Is.Null);
    }

    [Test]
    public void TooFewSnapshots_OrAGramOfTheWrongSize_AreReported()
    {
        Assert.That(() => PathDiagnostics.FromGram(new double[4], [1, 2]), Throws.ArgumentException.With.Message.Contains("at least 3"));
        Assert.That(() => PathDiagnostics.FromGram(new double[8], [1, 2, 3]), Throws.ArgumentException.With.Message.Contains("must hold 9"));
        Assert.That(() => PathDiagnostics.FromGram(new double[9], [1, 3, 3]), Throws.ArgumentException.With.Message.Contains("must increase"));
    }
}
