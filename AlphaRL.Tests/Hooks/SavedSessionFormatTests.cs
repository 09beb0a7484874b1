using AlphaRl.Tests.Support;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Hooks;

/// <summary>Sessions saved by earlier versions, and saved states that no longer fit the policy.</summary>
public class SavedSessionFormatTests : Checkpoints.TempFolderTests
{
    private const int Steps = 90;

    private static string Fixture(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", name);

    /// <summary>Trains the <see cref="Lifecycle"/> run from step <paramref name="from"/> to <see cref="Steps"/> with the plain score as the guard.</summary>
    private static void Train(Lifecycle run, nn.Module policy, AlphaRLSession alpha, int from)
    {
        for (int t = from; t <= Steps; t++)
        {
            run.Train(policy, t);
            alpha.Step(t, _ => run.Score(policy));
        }
    }

    // The fixtures were saved in state format version 1 (flat settings) after steps 23 and 40 of this run (Fixtures/README.md).
    [TestCase(23)]
    [TestCase(40)]
    public void ASessionSavedInFormatVersion1_ResumesAndEndsWhereAnUninterruptedRunDoes(int savedAt)
    {
        byte[] uninterrupted;
        using (var run = new Lifecycle())
        using (var policy = Lifecycle.NewPolicy())
        using (var alpha = AlphaRL.Accelerate(policy, Lifecycle.Options()))
        {
            Train(run, policy, alpha, 1);
            uninterrupted = Lifecycle.Hash(policy);
        }

        using var resumedRun = new Lifecycle();
        using var resumedPolicy = Lifecycle.NewPolicy();
        using (var replay = AlphaRL.Accelerate(resumedPolicy, Lifecycle.Options()))
            for (int t = 1; t <= savedAt; t++)
            {
                resumedRun.Train(resumedPolicy, t);
                replay.Step(t, _ => resumedRun.Score(resumedPolicy));   // the policy's own checkpoint at the saved step
            }
        using var resumed = AlphaRL.Resume(resumedPolicy, Fixture($"session-v1-step{savedAt}"));
        Assert.That(resumed.LastStep, Is.EqualTo(savedAt));
        Assert.That(resumed.Options.Snapshots.Interval, Is.EqualTo(5), "flat settings migrated into their groups");
        Assert.That(resumed.Options.Jumps.Methods.OfType<Rank1LineJumpOptions>().Single().Uncovered, Is.EqualTo(UncoveredTensors.Extrapolate));
        Train(resumedRun, resumedPolicy, resumed, savedAt + 1);
        Assert.That(Lifecycle.Hash(resumedPolicy), Is.EqualTo(uninterrupted), "bit-identical final weights");
    }

    [Test]
    public void AVelocityMovingUncoveredTensors_RefusesToResume_WhenATensorFrozenAtSaveNowTrains()
    {
        var options = new AlphaRLOptions
        {
            Snapshots = { Interval = 5 },
            Attempts = { MinSnapshots = 4, MaxJumps = 0 },
            Jumps = { Methods = [new VelocityJumpOptions { IncludeUncovered = true }] },
        };
        string folder = Temp["state"];
        using var run = new Lifecycle();
        using var policy = Lifecycle.NewPolicy();
        var frozen = policy.named_parameters().First(p => p.parameter.dim() == 1);
        frozen.parameter.requires_grad = false;
        using (var alpha = AlphaRL.Accelerate(policy, options))
        {
            for (int t = 1; t <= 12; t++) { run.Train(policy, t); alpha.Step(t); }
            alpha.Save(folder);
        }

        frozen.parameter.requires_grad = true;
        var e = Assert.Throws<AlphaRLException>(() => AlphaRL.Resume(policy, folder));
        Assert.That(e!.Message, Does.Contain($"'{frozen.name}'").And.Contain("no running sums"));

        // The same tensor frozen again: the session resumes and keeps snapshotting.
        frozen.parameter.requires_grad = false;
        using var resumed = AlphaRL.Resume(policy, folder);
        run.Train(policy, 15);
        Assert.That(resumed.Step(15).Action, Is.EqualTo(StepAction.Snapshot));
    }
}
