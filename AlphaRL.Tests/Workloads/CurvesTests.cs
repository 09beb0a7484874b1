using AlphaRl.Workloads.Evaluation;

namespace AlphaRl.Tests.Workloads;

/// <summary>The benchmark's report arithmetic on synthetic curves: reaching a target, the value at a step, collapse, the sweep's verdict.</summary>
public class CurvesTests
{
    private static Curve Of(params (int Step, double Value)[] points) => Curve.Of(points);

    private static Curve Line(int steps, Func<int, double> value, int every = 2) =>
        Curve.Of(Enumerable.Range(0, steps / every + 1).Select(i => (i * every, value(i * every))));

    [Test]
    public void FirstReach_IsTheFirstStepAtOrAboveTheTarget_OrNullWhenNever()
    {
        var rising = Of((0, 0.1), (2, 0.3), (4, 0.5), (6, 0.7));
        Assert.That(rising.FirstReach(0.5), Is.EqualTo(4), "crosses once, exactly at the target");
        Assert.That(rising.FirstReach(0.45), Is.EqualTo(4));
        Assert.That(rising.FirstReach(0.71), Is.Null, "never reached");
        Assert.That(rising.FirstReach(0.05), Is.EqualTo(1), "reached before training counts as one step, never zero");
        Assert.That(Of((0, 0.1), (2, 0.6), (4, 0.4), (6, 0.6)).FirstReach(0.6), Is.EqualTo(2), "a tie later does not move the first reach");
        Assert.That(Of((0, 0.1), (2, 0.5 - 1e-13)).FirstReach(0.5), Is.EqualTo(2), "rounding noise below the target counts as reaching it");
    }

    [Test]
    public void AJump_AddsAPointAtItsStep_ThatReachesAndIsTheValueThere()
    {
        // Measured at step 10 before the jump would be 0.3; the jump's point at step 10 replaces it with 0.8.
        var jumped = Of((0, 0.1), (8, 0.28), (10, 0.8), (12, 0.81));
        Assert.That(jumped.FirstReach(0.75), Is.EqualTo(10));
        Assert.That(jumped.At(10), Is.EqualTo(0.8));
        Assert.That(jumped.At(11), Is.EqualTo(0.8), "between measurements, the last one");
        Assert.That(jumped.At(9), Is.EqualTo(0.28));
        var both = Of((0, 0.1), (10, 0.3), (10, 0.8));
        Assert.That(both.At(10), Is.EqualTo(0.8), "two points at one step: the later (after the jump) is the weights there");
        Assert.Throws<ArgumentOutOfRangeException>(() => Of((4, 0.1)).At(2));
    }

    [Test]
    public void BadCurves_AreRejectedWithTheReason()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Of((0, 0.1), (4, 0.2), (2, 0.3)))!.Message, Does.Contain("must not decrease"));
        Assert.That(Assert.Throws<ArgumentException>(() => Of((0, double.NaN)))!.Message, Does.Contain("not finite"));
        Assert.That(Assert.Throws<ArgumentException>(() => Of())!.Message, Does.Contain("at least one point"));
    }

    [Test]
    public void Collapse_IsAFallBelowHalfTheBestGainThatDoesNotRecover()
    {
        var collapsed = Line(100, s => s <= 20 ? 0.4 + 0.02 * s : Math.Max(0.05, 0.8 - 0.02 * (s - 20)));
        Assert.That(collapsed.Collapsed(), Is.True);
        var recovered = Line(100, s => s <= 20 ? 0.4 + 0.02 * s : s <= 50 ? 0.45 : 0.8);
        Assert.That(recovered.Collapsed(), Is.False, "fell, then came back in the last fifth");
        var slowDecline = Line(100, s => s <= 50 ? 0.4 + 0.004 * s : 0.6 - 0.001 * (s - 50));
        Assert.That(slowDecline.Collapsed(), Is.False, "lost a quarter of its gain, not half");
        Assert.That(Line(100, s => s == 0 ? 0.4 : 0.01).Collapsed(), Is.True, "fell at once and never gained: a collapse");
        Assert.That(Line(100, s => 0.4 - 0.0001 * s).Collapsed(), Is.False, "drifted 0.01 below the start: noise, not a collapse");
    }

    [Test]
    public void StillImproving_ComparesTheLastFifthWithTheOneBefore()
    {
        Assert.That(Line(100, s => 0.4 + 0.002 * s).StillImproving(), Is.True);
        Assert.That(Line(100, s => Math.Min(0.6, 0.4 + 0.01 * s)).StillImproving(), Is.False, "saturated at step 20");
    }

    [Test]
    public void Tune_PicksTheStableRateThatReachesTheBestStableFinalFirst()
    {
        // 1x: slow, still rising. 3x: the best final. 10x: reaches 3x's final sooner but declines (unstable). 30x: collapses.
        var slow = RateOutcome.Of(1, [Line(100, s => 0.4 + 0.001 * s), Line(100, s => 0.4 + 0.0012 * s)]);
        var best = RateOutcome.Of(3, [Line(100, s => 0.4 + 0.002 * s), Line(100, s => 0.4 + 0.0022 * s)]);
        var declines = RateOutcome.Of(10, [Line(100, s => s <= 40 ? 0.4 + 0.008 * s : 0.72 - 0.003 * (s - 40)), Line(100, s => 0.4 + 0.006 * s)]);
        var collapses = RateOutcome.Of(30, [Line(100, s => s <= 10 ? 0.4 + 0.03 * s : 0.1), Line(100, s => s <= 10 ? 0.4 + 0.03 * s : 0.1)]);
        Assert.That(declines.Stable, Is.False);
        Assert.That(declines.DeclinedSeeds, Is.EqualTo(1));
        Assert.That(collapses.CollapsedSeeds, Is.EqualTo(2));
        var (tuned, target) = Sweep.Tune([slow, best, declines, collapses])!.Value;
        Assert.That(tuned.Multiple, Is.EqualTo(3));
        Assert.That(target, Is.EqualTo(0.4 + 0.0021 * 100).Within(1e-12), "the mean of the best rate's seeds at T");
        Assert.That(Sweep.Tune([collapses]), Is.Null, "no stable rate, no tuned rate");

        // A faster stable rate that also reaches the best final wins on steps; ties go to the smaller rate.
        var faster = RateOutcome.Of(10, [Line(100, s => Math.Min(0.61, 0.4 + 0.01 * s)), Line(100, s => Math.Min(0.61, 0.4 + 0.01 * s))]);
        Assert.That(Sweep.Tune([slow, best, faster])!.Value.Tuned.Multiple, Is.EqualTo(10));
        var twin = RateOutcome.Of(30, faster.Seeds);
        Assert.That(Sweep.Tune([twin, faster])!.Value.Tuned.Multiple, Is.EqualTo(10));
    }

    [Test]
    public void MeanCurve_AveragesPointByPoint_AndRefusesDifferentCadences()
    {
        var mean = Sweep.MeanCurve([Of((0, 0.2), (2, 0.4)), Of((0, 0.4), (2, 0.8))]);
        Assert.That(mean.Values, Is.EqualTo(new[] { 0.3, 0.6 }).Within(1e-12));
        Assert.Throws<ArgumentException>(() => Sweep.MeanCurve([Of((0, 0.2), (2, 0.4)), Of((0, 0.4), (4, 0.8))]));
    }

    [Test]
    public void CostOfTuning_AndWorstShortfall()
    {
        Assert.That(Sweep.CostOfTuning(rates: 7, totalSteps: 200, tunedStepsToTarget: 150), Is.EqualTo(6 * 200 + 150));
        var alone = Of((0, 0.1), (2, 0.3), (4, 0.5), (6, 0.6));
        Assert.That(Sweep.WorstShortfall(Of((0, 0.1), (2, 0.6), (4, 0.45), (6, 0.7)), alone), Is.EqualTo(0.05).Within(1e-12));
        Assert.That(Sweep.WorstShortfall(Of((0, 0.1), (2, 0.6), (4, 0.6), (6, 0.7)), alone), Is.EqualTo(0));
        Assert.That(Sweep.WorstShortfall(Of((0, 0.1), (2, 0.3)), alone), Is.EqualTo(0), "compared only where both measured");
    }

    [Test]
    public void ForgettingPerGain_ComparesTheJumpWithTrainingToTheSameTaskReward()
    {
        // Training from step 10 (task 0.5, retained 0.99) loses 0.01 of retained per 0.1 of task; the jump lands on task 0.7.
        var training = Enumerable.Range(0, 21).Select(i => (Step: i * 2, Task: 0.4 + 0.01 * i * 2 / 2.0, Retained: 1.0 - 0.001 * i)).ToList();
        var at10 = training.Single(p => p.Step == 10);
        var (jump, byTraining) = Sweep.ForgettingPerGain((at10.Task, at10.Retained), (0.5, at10.Retained - 0.02), training, 10)!.Value;
        Assert.That(jump, Is.EqualTo(0.02 / (0.5 - at10.Task)).Within(1e-12));
        var end = training.First(p => p.Step > 10 && p.Task >= 0.5);
        Assert.That(byTraining, Is.EqualTo((at10.Retained - end.Retained) / (end.Task - at10.Task)).Within(1e-12));
        Assert.That(Sweep.ForgettingPerGain((0.5, 1), (0.5, 0.9), training, 10), Is.Null, "no task gain: no ratio");
        var (_, beyond) = Sweep.ForgettingPerGain((at10.Task, at10.Retained), (0.99, 0.9), training, 10)!.Value;
        Assert.That(beyond, Is.EqualTo((at10.Retained - training[^1].Retained) / (training[^1].Task - at10.Task)).Within(1e-12), "never reached: up to the last point");
    }
}
