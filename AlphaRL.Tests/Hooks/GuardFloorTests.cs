using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;

namespace AlphaRl.Tests.Hooks;

/// <summary>
/// Floors on secondary metrics (<see cref="AlphaRLOptions.GuardFloors"/>): a candidate that gains on the main score but
/// forgets below a floor is never chosen; a missing floored metric is an error that restores the weights.
/// </summary>
public class GuardFloorTests
{
    /// <summary>Velocity candidates j = 1, 2, 4 at the window's end, step 20, with a floor of 0.98 on "format_c".</summary>
    private static AlphaRLOptions Floored() => new()
    {
        Snapshots = { Interval = 5 },
        Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 1 },
        Jumps = { Lengths = [0, 1, 2, 4], Methods = [new VelocityJumpOptions()] },
        Guard = { Floors = { ["format_c"] = 0.98 } },
    };

    /// <summary>Trains 20 steps; the evaluation gains more the longer the jump and forgets format C beyond j = 1.</summary>
    private static (StepOutcome Outcome, Dictionary<string, byte[]> AtWe, Dictionary<string, byte[]> After) Run(AlphaRLOptions options, Func<GuardContext, GuardScore> score)
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, options);
        Dictionary<string, byte[]> atWe = null!;
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);
            if (t == 20) atWe = Weights.Snapshot(policy);
            outcome = alpha.Step(t, score);
        }
        return (outcome, atWe, Weights.Snapshot(policy));
    }

    private static GuardScore Forgetting(GuardContext c) =>
        new GuardScore(0.5 + 0.1 * c.Length).WithMetric("format_c", c.Length <= 1 ? 0.99 : 0.95);

    [Test]
    public void ACandidateBelowAFloor_IsNeverChosen_TheBestWithinTheFloorsIs()
    {
        var (outcome, _, _) = Run(Floored(), Forgetting);
        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(outcome.Jump!.Length, Is.EqualTo(1), "j = 2 and 4 score higher but forget format C below 0.98");
        Assert.That(outcome.Jump.Candidates.Select(c => c.MeetsFloors), Is.EqualTo(new bool?[] { true, false, false }));
        Assert.That(outcome.Jump.Candidates[1].Metrics!["format_c"], Is.EqualTo(0.95));

        var noFloor = Floored();
        noFloor.Guard.Floors.Clear();
        Assert.That(Run(noFloor, Forgetting).Outcome.Jump!.Length, Is.EqualTo(4), "without the floor the longest jump wins");
    }

    [Test]
    public void EveryCandidateBelowAFloor_TheJumpIsRejected_AndTheWeightsAreRestoredBitForBit()
    {
        var (outcome, atWe, after) = Run(Floored(), c => new GuardScore(0.5 + 0.1 * c.Length).WithMetric("format_c", c.Phase == GuardPhase.Before ? 0.99 : 0.9));
        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpRejected));
        Assert.That(outcome.Jump!.Candidates.All(c => c.MeetsFloors == false));
        Assert.That(after.Keys, Is.EquivalentTo(atWe.Keys));
        foreach (var (name, bytes) in atWe) Assert.That(after[name], Is.EqualTo(bytes), name);
    }

    [Test]
    public void AFlooredMetricTheEvaluationDidNotReport_IsAnError_NamingIt_AndRestores()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        using var alpha = AlphaRL.Accelerate(policy, Floored());
        Dictionary<string, byte[]> atWe = null!;
        AlphaRLException? error = null;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);
            if (t == 20) atWe = Weights.Snapshot(policy);
            try
            {
                alpha.Step(t, c => new GuardScore(0.7).WithMetric("format_b", 1));
            }
            catch (AlphaRLException e)
            {
                error = e;
            }
        }
        Assert.That(error, Is.Not.Null);
        Assert.That(error!.Message, Does.Contain("\"format_c\"").And.Contain("GuardFloors"));
        Weights.AssertIdentical(policy, atWe);
    }

    [Test]
    public void InvalidFloors_AreReportedByTheValidator()
    {
        var options = Floored();
        options.Guard.Floors["bad"] = double.NaN;
        options.Guard.Floors[" "] = 0.5;
        var result = new AlphaRLOptionsValidator().Validate(null, options);
        Assert.That(result.Failed, Is.True);
        Assert.That(result.FailureMessage, Does.Contain("Guard.Floors[\"bad\"] = NaN").And.Contain("empty name"));
    }

    [Test]
    public void Clone_CopiesTheFloors()
    {
        var options = Floored();
        var copy = options.Clone();
        options.Guard.Floors["format_c"] = 0.5;
        Assert.That(copy.Guard.Floors["format_c"], Is.EqualTo(0.98));
    }
}
