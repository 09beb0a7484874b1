using AlphaRl.Jumps;

namespace AlphaRl.Tests.Jumps;

public class JumpPlannerTests
{
    [TestCase(100, 95, 0.5, 103)]    // j·L = 2.5: halves away from zero, for the hook, predict and watch alike
    [TestCase(100, 95, 1.5, 108)]    // 7.5
    [TestCase(100, 90, 0.5, 105)]
    [TestCase(100, 90, 0, 100)]
    [TestCase(40, 0, 2, 120)]        // the paper's target: s + 3L
    public void Target_IsTheLastStepPlusTheRoundedLengthTimesTheWindow(long last, long start, double length, long target) =>
        Assert.That(JumpGeometry.Target(last, start, length), Is.EqualTo(target));

    [Test]
    public void Target_BeyondAnyStep_Throws() =>
        Assert.That(() => JumpGeometry.Target(10, 0, 1e300), Throws.TypeOf<ArgumentOutOfRangeException>());

    [Test]
    public void Beyond_OrdersTheLengths_DropsZeroAndTargetsThatRepeatAShorterOne()
    {
        // L = 3: 0.1 reaches e + 0 (dropped), 0.5 and 0.6 both e + 2 (the shorter kept), 1 reaches e + 3.
        var plan = JumpPlanner.Beyond([1, 0.6, 0, 0.5, 0.1, 1], null, windowStart: 7, last: 10);
        Assert.That(plan, Is.EqualTo(new[] { new PlannedJump(0.5, 12), new PlannedJump(1, 13) }));
    }

    [Test]
    public void Beyond_WithATargetStep_GivesThatStepAlone_OrNothingWhenItIsNotAhead()
    {
        Assert.That(JumpPlanner.Beyond([1, 2], 130, windowStart: 0, last: 40), Is.EqualTo(new[] { new PlannedJump(2.25, 130) }));
        Assert.That(JumpPlanner.Beyond([1, 2], 40, windowStart: 0, last: 40), Is.Empty);
        Assert.That(JumpPlanner.Beyond([1, 2], null, windowStart: 40, last: 40), Is.Empty, "a window without length");
    }

    [Test]
    public void ThePaperPreset_JumpsToThreeWindowLengths_AndTheMultipleActs()
    {
        Assert.That(TorchSharp.AlphaRLOptions.Paper().Jumps.Lengths, Is.EqualTo(new[] { 0.0, 2.0 }));
        Assert.That(TorchSharp.AlphaRLOptions.Paper(5).Jumps.Lengths, Is.EqualTo(new[] { 0.0, 4.0 }));
        var plan = JumpPlanner.Beyond(TorchSharp.AlphaRLOptions.Paper(5).Jumps.Lengths, null, windowStart: 0, last: 40);
        Assert.That(plan.Single().TargetStep, Is.EqualTo(200), "40 -> 200 with multiple 5 (40 -> 120 with 3)");
        Assert.That(() => TorchSharp.AlphaRLOptions.Paper(1), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void TheRules_NameWhatIsWrong()
    {
        Assert.That(JumpDefaults.CheckMinSnapshots(2), Does.Contain("at least 3"));
        Assert.That(JumpDefaults.CheckMinSnapshots(3), Is.Null);
        Assert.That(JumpDefaults.CheckFitThreshold(0), Is.Not.Null);
        Assert.That(JumpDefaults.CheckLength(double.NaN), Is.Not.Null);
        Assert.That(JumpDefaults.CheckTargetMultiple(1), Does.Contain("greater than 1"));
    }
}
