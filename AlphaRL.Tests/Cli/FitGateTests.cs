using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary>predict's fit gate (a rank-1 prediction is written only when the pooled held-out error is within the
/// threshold) and its range check (every written value is finite and fits its dtype).</summary>
public class FitGateTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];

    private string[] Folders() => Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName).Order().ToArray()!;

    [Test]
    public void ACleanSeries_PassesTheGate_WithNoWarning()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);

        var (exit, output, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["out"]));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Not.Contain("warning"));
        Assert.That(Directory.Exists(Temp["out"]));
    }

    [Test]
    public void ANoisySeries_IsRefused_AndAHighEnoughThresholdLetsItThrough()
    {
        // Noise as large as the whole update: the line explains little of the held-out snapshots.
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps, noise: 5e-2f);
        var before = Folders();

        var (refused, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["out"]));
        var (passed, _, passError) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["out"], "--fit-threshold", "1e9"));

        Assert.That(refused, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("> 0.1").And.Contain("No checkpoint's update norm jumps"));
        Assert.That(passed, Is.EqualTo(0), passError);
        Assert.That(Folders(), Is.EqualTo(before.Append("out").Order()));
    }

    [Test]
    public void ACandidateGrid_IsRefusedBeforeAnyCandidateIsWritten()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps, noise: 5e-2f);
        var before = Folders();
        var args = CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["out"]).ToList();
        args.RemoveRange(args.IndexOf("--target-step"), 2);

        var (exit, _, error) = CliHarness.Run([.. args, "--lengths", "0,1,2"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("pooled held-out relative error"));
        Assert.That(Folders(), Is.EqualTo(before));
    }

    [TestCase("rank1")]
    [TestCase("velocity")]
    public void AnF16PredictionBeyond65504_IsRefused_EvenWithForce_AndNothingIsWritten(string method)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F16), Steps, noise: 0f);
        var before = Folders();

        // At rate 1e-3 per step, the weights pass 65504 near step 1e8.
        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 10_000_000_000, Temp["out"], "--method", method, "--force"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("step 10000000000").And.Contain("F16 cannot hold").And.Contain("Nothing was written"));
        Assert.That(Folders(), Is.EqualTo(before));
    }

    [Test]
    public void AnInvalidFitThreshold_IsAUsageError()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["out"], "--fit-threshold", "0"));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.Contain("--fit-threshold"));
    }

    [TestCase(new[] { 0.1, 0.2, 0.3, 0.4 }, null)]
    [TestCase(new[] { 0.1, 0.2, 100.0, 100.1 }, 30L)]
    [TestCase(new[] { 0.1, 50.0, 0.3, 0.4 }, 20L)]
    [TestCase(new[] { 50.0, 0.2, 0.3, 0.4 }, 10L)]
    public void LikelyCause_IsTheCheckpointWhoseUpdateNormJumps(double[] norms, long? cause)
    {
        long[] steps = [10, 20, 30, 40];
        var evidence = new GateEvidence(0, [], steps.Select((s, i) => new StepUpdate(s, $"run/step-{s}", norms[i] * norms[i])).ToList());

        string? said = FitGate.LikelyCause(evidence);

        if (cause is null) Assert.That(said, Is.Null);
        else Assert.That(said, Does.StartWith($"the checkpoint at step {cause} (run/step-{cause})"));
    }

    [Test]
    public void LikelyCause_KeepsASteadilyGrowingUpdateLevel_HoweverTheCheckpointsAreSpaced()
    {
        long[] steps = [1, 300, 301, 90_000];
        var evidence = new GateEvidence(0, [], steps.Select(s => new StepUpdate(s, null, 1e-6 * s * s)).ToList());

        Assert.That(FitGate.LikelyCause(evidence), Is.Null);
    }

    [Test]
    public void ShardedPredict_IsJudgedByMerge_OnThePooledFitOfAllParts_AsOneProcessIs()
    {
        var model = new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps);
        HostileInputTests.Poke(Temp.Path, 20, "model.layers.0.self_attn.q_proj.weight", 3, 1e16f);

        var single = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["single"]));
        for (int i = 0; i < 3; i++)
            Assert.That(CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["sharded"], "--shard", $"{i}/3")).Exit, Is.EqualTo(0), $"part {i}");
        var refused = CliHarness.Run("merge", "--out", Temp["sharded"]);

        Assert.That((single.Exit, refused.Exit), Is.EqualTo((1, 1)), single.Error + refused.Error);
        string Refusal(string error) => error[..error.IndexOf("Nothing was written", StringComparison.Ordinal)];
        Assert.That(Refusal(refused.Error), Is.EqualTo(Refusal(single.Error)));
        Assert.That(Directory.Exists(Temp["sharded"]), Is.False);
        Assert.That(Directory.GetDirectories(Temp.Path, "sharded.part-*"), Has.Length.EqualTo(3), "the parts are kept");

        var (forced, output, error) = CliHarness.Run("merge", "--out", Temp["sharded"], "--force");

        Assert.That(forced, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("warning: --force").And.Contain("step 20"));
        Assert.That(Directory.Exists(Temp["sharded"]));
    }

    [Test]
    public void APartManifestWithABrokenFit_IsExit1_NamingIt()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        for (int i = 0; i < 2; i++)
            Assert.That(CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 80, Temp["sharded"], "--shard", $"{i}/2")).Exit, Is.EqualTo(0));
        string manifest = Path.Combine(Temp["sharded.part-1-of-2"], "part.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"matrices\": [", "\"matrices\": [null, "));

        var (exit, _, error) = CliHarness.Run("merge", "--out", Temp["sharded"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain(manifest).And.Contain("is not a part manifest"));
        Assert.That(Directory.Exists(Temp["sharded"]), Is.False);
    }
}
