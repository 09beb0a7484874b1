using AlphaRl.Workloads;
using AlphaRl.Workloads.Evaluation;
using AlphaRl.Workloads.Tasks;
using AlphaRl.Workloads.Training;

namespace AlphaRl.Tests.Workloads;

/// <summary>
/// The regime where a larger learning rate has a price (<see cref="RlRegimes.ElicitForgetGrpo"/>): its defining
/// property, shown cheaply. 300x the base rate destroys format C and the task within 20 steps; 3x the base rate
/// gains on the task over the same steps and keeps format C within the allowance.
/// </summary>
public class ElicitForgetRegimeTests
{
    private static (double Task, double Retained, double Retained0, double Task0) Train(double multiple, int steps)
    {
        var settings = RlRegimes.ElicitForgetGrpo with { LearningRate = RlRegimes.ElicitForgetGrpo.LearningRate * multiple, ValidationSize = 64, TestSize = 300 };
        using var run = RlRuns.Create(settings, Path.GetTempPath());
        var formatC = ForgettingQuality.InFormatC((ElicitationTask)run.Task, run.Sets.Test);
        double task0 = run.ExpectedReward(EvalSplit.Test), retained0 = Sequences.ExpectedReward(run.Model, run.Task, formatC);
        for (int i = 0; i < steps; i++) run.TrainStep();
        return (run.ExpectedReward(EvalSplit.Test), Sequences.ExpectedReward(run.Model, run.Task, formatC), retained0, task0);
    }

    [Test]
    public void TooLargeARate_Collapses_TaskAndFormatC()
    {
        var (task, retained, retained0, task0) = Train(300, 20);
        Assert.That(retained, Is.LessThan(0.6 * retained0), "format C is forgotten");
        Assert.That(task, Is.LessThan(task0), "the task itself ends below the base");
        Assert.That(ForgettingQuality.Score(task, retained, retained0), Is.LessThan(0), "quality counts the forgetting");
    }

    [Test]
    public void AModerateRate_GainsOnTheTask_AndKeepsFormatC()
    {
        var (task, retained, retained0, task0) = Train(3, 20);
        Assert.That(task, Is.GreaterThan(task0));
        Assert.That(retained, Is.GreaterThanOrEqualTo((1 - ForgettingQuality.Allowance) * retained0));
        Assert.That(ForgettingQuality.Score(task, retained, retained0), Is.EqualTo(task), "no penalty within the allowance");
    }

    [Test]
    public void Quality_ChargesOnlyTheLossBeyondTheAllowance()
    {
        Assert.That(ForgettingQuality.Score(0.7, 0.99, 1.0), Is.EqualTo(0.7));
        Assert.That(ForgettingQuality.Score(0.7, 0.98, 1.0), Is.EqualTo(0.7).Within(1e-12));
        Assert.That(ForgettingQuality.Score(0.7, 0.97, 1.0), Is.EqualTo(0.7 - ForgettingQuality.Penalty * 0.01).Within(1e-12));
    }
}
