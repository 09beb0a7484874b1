using AlphaRl.Checkpoints;
using AlphaRl.Cli;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary><c>alpharl record</c> and <c>--store</c>: each checkpoint is read once, and predict and analyze from the
/// store give what they give on the whole series.</summary>
public class SnapshotStoreTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];

    private string Store => Temp["store"];

    private void RecordAll(IEnumerable<long>? steps = null)
    {
        foreach (long s in steps ?? Steps)
        {
            var (exit, output, error) = CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, s), "--step", $"{s}", "--base", SyntheticSeries.Folder(Temp.Path, 0), "--store", Store);
            Assert.That(exit, Is.EqualTo(0), error);
            Assert.That(output, Does.Contain($"Recorded step {s}"));
        }
    }

    private static byte[][] Bytes(string folder) =>
        Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();

    [TestCase(SafetensorsDType.F32, 1, "increment")]
    [TestCase(SafetensorsDType.BF16, 3, "increment")]
    [TestCase(SafetensorsDType.BF16, 1, "add-to-base")]
    public void PredictFromTheStore_IsByteIdenticalToPredictOnTheSeries_AndNeedsNoOlderCheckpoint(SafetensorsDType dtype, int shards, string form)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(2, 12, 20, 7, dtype, shards), Steps, noise: 3e-3f);
        RecordAll();
        var (series, _, seriesError) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 90, Temp["from-series"], "--form", form, "--force"));
        Assert.That(series, Is.EqualTo(0), seriesError);
        // The older checkpoints are gone, as a trainer with a save limit deletes them: the store does not need them.
        foreach (long s in Steps[..^1]) Directory.Delete(SyntheticSeries.Folder(Temp.Path, s), true);

        var (exit, output, error) = CliHarness.Run("predict", "--store", Store, "--target-step", "90", "--out", Temp["from-store"], "--form", form, "--force");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("predicted from steps 10, 20, 30, 40"));
        Assert.That(Bytes(Temp["from-store"]), Is.EqualTo(Bytes(Temp["from-series"])));
    }

    [Test]
    public void AnalyzeFromTheStore_ReportsWhatAnalyzeOnTheSeriesReports_ReadingNoCheckpoint()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 10, 16, 5, SafetensorsDType.BF16), Steps, noise: 3e-3f);
        RecordAll();
        string[] seriesArgs = ["analyze", "--base", SyntheticSeries.Folder(Temp.Path, 0), .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(Temp.Path, s)}" }), "--json", Temp["series.json"]];
        Assert.That(CliHarness.Run(seriesArgs).Exit, Is.EqualTo(0));

        var (exit, _, error) = CliHarness.Run("analyze", "--store", Store, "--json", Temp["store.json"]);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(File.ReadAllText(Temp["store.json"]), Is.EqualTo(File.ReadAllText(Temp["series.json"])));
    }

    [Test]
    public void RecordingTheSameCheckpointTwice_DoesNothing()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        RecordAll(Steps[..2]);
        var before = Bytes(Store);
        var times = Directory.GetFiles(Store).Select(File.GetLastWriteTimeUtc).ToArray();

        var (exit, output, _) = CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, 20), "--step", "20", "--store", Store);

        Assert.That(exit, Is.EqualTo(0));
        Assert.That(output, Does.Contain("already recorded"));
        Assert.That(Bytes(Store), Is.EqualTo(before));
        Assert.That(Directory.GetFiles(Store).Select(File.GetLastWriteTimeUtc), Is.EqualTo(times));
    }

    [Test]
    public void ACheckpointOfAnotherModel_IsRejected_AndTheStoreIsUnchanged()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        SyntheticSeries.Write(Temp["other"], new SyntheticModel(1, 8, 16, 5, SafetensorsDType.F32), [50]);
        RecordAll(Steps[..2]);
        var before = Bytes(Store);

        var (exit, _, error) = CliHarness.Run("record", SyntheticSeries.Folder(Temp["other"], 50), "--step", "50", "--store", Store);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("does not belong to the series").And.Contain("mlp.gate_proj.weight 16×8"));
        Assert.That(Bytes(Store), Is.EqualTo(before));
    }

    [Test]
    public void AnotherFolderForARecordedStep_OrAnEarlierStep_IsRefused()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        RecordAll(Steps[..3]);

        var (other, _, otherError) = CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, 40), "--step", "30", "--store", Store);
        var (earlier, _, earlierError) = CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, 40), "--step", "25", "--store", Store);

        Assert.That(other, Is.EqualTo(1));
        Assert.That(otherError, Does.Contain("step 30 is already recorded").And.Contain("another folder"));
        Assert.That(earlier, Is.EqualTo(2));
        Assert.That(earlierError, Does.Contain("record checkpoints in step order"));
    }

    [Test]
    public void ALastCheckpointRewrittenSinceItWasRecorded_IsRefused()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        RecordAll();
        File.SetLastWriteTimeUtc(Path.Combine(SyntheticSeries.Folder(Temp.Path, 40), Checkpoint.SingleFileName), DateTime.UtcNow.AddMinutes(1));

        var (exit, _, error) = CliHarness.Run("predict", "--store", Store, "--target-step", "90", "--out", Temp["out"]);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("changed since it was recorded"));
        Assert.That(Directory.Exists(Temp["out"]), Is.False);
    }

    [Test]
    public void TheStepIsReadFromTheUsualFolderNames()
    {
        Assert.That(new[] { "global_step_120", "checkpoint-40", "step_7", "step-9", "runs/ckpt-3/" }.Select(SnapshotStore.StepOf),
            Is.EqualTo(new long?[] { 120, 40, 7, 9, 3 }));
        Assert.That(SnapshotStore.StepOf("final"), Is.Null);
    }

    [Test]
    public void StoreOptions_DoNotMixWithSeriesOptions()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        RecordAll();

        var (mixed, _, mixedError) = CliHarness.Run("analyze", "--store", Store, "--checkpoint", $"10:{SyntheticSeries.Folder(Temp.Path, 10)}");
        var (none, _, noneError) = CliHarness.Run("analyze");

        Assert.That((mixed, none), Is.EqualTo((2, 2)));
        Assert.That(mixedError, Does.Contain("--checkpoint does not go with --store"));
        Assert.That(noneError, Does.Contain("Option '--base' is required"));
    }

    [TestCase(SafetensorsDType.F32)]
    [TestCase(SafetensorsDType.BF16)]
    public void VelocityFromTheStore_IsByteIdenticalToVelocityOnTheSeries_AndNeedsNoOlderCheckpoint(SafetensorsDType dtype)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(2, 12, 20, 7, dtype, 2), Steps, noise: 3e-3f);
        RecordAll();
        var (series, _, seriesError) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 90, Temp["from-series"], "--method", "velocity"));
        Assert.That(series, Is.EqualTo(0), seriesError);
        foreach (long s in Steps[..^1]) Directory.Delete(SyntheticSeries.Folder(Temp.Path, s), true);

        var (exit, output, error) = CliHarness.Run("predict", "--store", Store, "--method", "velocity", "--target-step", "90", "--out", Temp["from-store"]);

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("predicted from steps 10, 20, 30, 40"));
        Assert.That(Bytes(Temp["from-store"]), Is.EqualTo(Bytes(Temp["from-series"])));
        // One file of sums: the previous ones are deleted as each record replaces them.
        Assert.That(Directory.GetFiles(Store, "velocity-*.safetensors").Select(Path.GetFileName), Is.EqualTo(new[] { "velocity-40.safetensors" }));
    }

    [Test]
    public void SkipSnapshots_LeavesTheWindowsFirstCheckpointsOutOfTheStoredVelocity_AsTheHookDoes()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 12, 20, 7, SafetensorsDType.F32), Steps, noise: 3e-3f);
        foreach (long s in Steps)
            Assert.That(CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, s), "--base", SyntheticSeries.Folder(Temp.Path, 0), "--store", Store, "--skip-snapshots", "1").Exit, Is.EqualTo(0));
        // The slope over steps 20, 30, 40 only (step 10 left out), steps still measured from the base.
        var (series, _, seriesError) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps[1..], 90, Temp["from-series"], "--method", "velocity"));
        Assert.That(series, Is.EqualTo(0), seriesError);

        var (exit, _, error) = CliHarness.Run("predict", "--store", Store, "--method", "velocity", "--target-step", "90", "--out", Temp["from-store"]);
        var (other, _, otherError) = CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, 40), "--store", Store, "--skip-snapshots", "2");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(Bytes(Temp["from-store"]), Is.EqualTo(Bytes(Temp["from-series"])));
        Assert.That(other, Is.EqualTo(2));
        Assert.That(otherError, Does.Contain("--skip-snapshots 2 differs from the store's (1)"));
    }

    [Test]
    public void Record_RemovesWhatAKilledRecordLeftBehind_AndKeepsTheSumsTheManifestNames()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        RecordAll(Steps[..2]);
        // A record killed while writing (a temporary file), and one killed after its sums were renamed into place but
        // before the manifest named them.
        File.WriteAllText(Path.Combine(Store, ".velocity-30.safetensors.0123.tmp"), "partial");
        File.WriteAllText(Path.Combine(Store, "velocity-30.safetensors"), "orphan");

        RecordAll(Steps[2..]);

        Assert.That(Directory.GetFiles(Store, ".*.tmp"), Is.Empty);
        Assert.That(Directory.GetFiles(Store, "velocity-*").Select(Path.GetFileName), Is.EqualTo(new[] { "velocity-40.safetensors" }));
        Assert.That(CliHarness.Run("predict", "--store", Store, "--method", "velocity", "--target-step", "90", "--out", Temp["v"]).Exit, Is.EqualTo(0));
    }

    [TestCase("truncated", "velocity-40.safetensors")]
    [TestCase("nan", "velocity-40.safetensors")]
    [TestCase("renamed", "../store.json")]
    public void DamagedVelocitySums_AreExit1_NamingTheFile_WithNothingWritten(string damage, string expected)
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        RecordAll();
        string sums = Path.Combine(Store, "velocity-40.safetensors");
        switch (damage)
        {
            case "truncated":
                File.WriteAllBytes(sums, File.ReadAllBytes(sums)[..^100]);
                break;
            case "nan":
                var bytes = File.ReadAllBytes(sums);
                BitConverter.GetBytes(float.NaN).CopyTo(bytes, bytes.Length - 4); // the last co-moment
                File.WriteAllBytes(sums, bytes);
                break;
            default:
                string manifest = Path.Combine(Store, "store.json");
                File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"velocity-40.safetensors\"", "\"../store.json\""));
                break;
        }

        var (exit, _, error) = CliHarness.Run("predict", "--store", Store, "--method", "velocity", "--target-step", "90", "--out", Temp["v"]);

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain(damage == "renamed" ? "store.json" : sums).And.Contain(damage == "renamed" ? expected : damage == "nan" ? "NaN" : ""));
        Assert.That(Directory.Exists(Temp["v"]), Is.False);
        Assert.That(Directory.GetDirectories(Temp.Path, ".*"), Is.Empty, "no temporary folder left");
    }

    [Test]
    public void VelocityFromAStoreWithoutSums_IsRefused_Clearly()
    {
        SyntheticSeries.Write(Temp.Path, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps);
        foreach (long s in Steps)
            Assert.That(CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, s), "--base", SyntheticSeries.Folder(Temp.Path, 0), "--store", Store, "--velocity", "off").Exit, Is.EqualTo(0));

        var (exit, _, error) = CliHarness.Run("predict", "--store", Store, "--method", "velocity", "--target-step", "90", "--out", Temp["v"]);
        var (again, _, againError) = CliHarness.Run("record", SyntheticSeries.Folder(Temp.Path, 40), "--store", Store, "--velocity", "on");

        Assert.That((exit, again), Is.EqualTo((2, 2)));
        Assert.That(error, Does.Contain("the store keeps no velocity sums"));
        Assert.That(againError, Does.Contain("--velocity on differs from the store's"));
        Assert.That(Directory.Exists(Temp["v"]), Is.False);
        Assert.That(Directory.GetFiles(Store, "velocity-*"), Is.Empty);
    }
}
