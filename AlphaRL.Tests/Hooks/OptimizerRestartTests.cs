using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>AdamW and a learning-rate schedule after a kept jump: a fresh optimizer, the schedule moved on by the skipped steps.</summary>
public class OptimizerRestartTests
{
    [Test]
    public void AfterAKeptJump_TheNewScheduleStandsWhereTheUninterruptedOneWould_AndTheMomentsAreFresh()
    {
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        const double lr = 0.01;
        var optimizer = optim.AdamW(policy.parameters(), lr: lr);
        var scheduler = optim.lr_scheduler.StepLR(optimizer, step_size: 10, gamma: 0.5);
        Assert.That(optimizer, Is.InstanceOf<IDisposable>(), "the old optimizer can be disposed");
        using var alpha = AlphaRL.Accelerate(policy, new AlphaRLOptions
        {
            Snapshots = { Interval = 5 },
            Attempts = { MinSnapshots = 4, Schedule = JumpSchedule.Repeated, MaxJumps = 1 },
            Jumps = { Lengths = [0, 1] },
        });
        alpha.Jumped += (_, jump) =>
        {
            if (!jump.Kept) return;
            (optimizer, scheduler) = OptimizerRestart.AfterJump(optimizer,
                () => optim.AdamW(policy.parameters(), lr: lr),
                o => optim.lr_scheduler.StepLR(o, step_size: 10, gamma: 0.5),
                scheduleSteps: alpha.LastStep + alpha.StepsSkipped);
        };
        StepOutcome outcome = null!;
        for (int t = 1; t <= 20; t++)
        {
            run.Train(policy, t);          // stands in for optimizer.step()
            scheduler.step();
            outcome = alpha.Step(t, () => run.Score(policy));
        }
        Assert.That(outcome.Action, Is.EqualTo(StepAction.JumpKept));
        Assert.That(outcome.EffectiveStep, Is.EqualTo(40));

        // The uninterrupted schedule after 40 steps: 0.01 × 0.5^4.
        using var reference = Lifecycle.NewPolicy();
        var plain = optim.AdamW(reference.parameters(), lr: lr);
        var plainSchedule = optim.lr_scheduler.StepLR(plain, step_size: 10, gamma: 0.5);
        for (int i = 0; i < 40; i++) plainSchedule.step();
        Assert.That(optimizer.ParamGroups.First().LearningRate, Is.EqualTo(plain.ParamGroups.First().LearningRate));
        Assert.That(optimizer.ParamGroups.First().LearningRate, Is.EqualTo(lr * Math.Pow(0.5, 4)).Within(1e-15));

        // Fresh moments: AdamW's first step moves every weight with a gradient by about the learning rate.
        var p = policy.parameters().First();
        var before = p.detach().clone();
        optimizer.zero_grad();
        (p * 1.0f).sum().backward();
        optimizer.step();
        double rate = optimizer.ParamGroups.First().LearningRate;
        var moved = (before - p.detach()).abs().max().item<float>();
        Assert.That(moved, Is.EqualTo(rate).Within(rate * 0.05 + 1e-6), "a fresh AdamW's first step is lr × sign(g) (plus the decoupled weight decay)");
    }

    [Test]
    public void AfterJump_RefusesTheSameOptimizerBack()
    {
        using var policy = Lifecycle.NewPolicy();
        var optimizer = optim.AdamW(policy.parameters(), lr: 0.01);
        Assert.Throws<ArgumentException>(() => OptimizerRestart.AfterJump(optimizer, () => optimizer, o => optim.lr_scheduler.StepLR(o, 10), 3));
    }
}
