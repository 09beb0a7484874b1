using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary><c>alpharl watch</c> on a folder a writer thread fills while it runs, each checkpoint written slowly
/// (the weights file in two halves, a pause between), as a Python trainer saving <c>global_step_N</c> would.</summary>
public class WatchTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40, 50];

    /// <summary>Copies each step folder of the source series into the run folder as global_step_N, writing the weights
    /// in two halves with a pause, and returns when all are written.</summary>
    private static Thread Writer(string source, string run, IEnumerable<long> steps, TimeSpan pause) => new(() =>
    {
        foreach (long step in steps)
        {
            string to = Path.Combine(run, $"global_step_{step}");
            Directory.CreateDirectory(to);
            foreach (string file in Directory.GetFiles(SyntheticSeries.Folder(source, step)))
            {
                var bytes = File.ReadAllBytes(file);
                using (var stream = new FileStream(Path.Combine(to, Path.GetFileName(file)), FileMode.CreateNew, FileAccess.Write))
                {
                    stream.Write(bytes, 0, bytes.Length / 2);
                    stream.Flush();
                    Thread.Sleep(pause);
                    stream.Write(bytes, bytes.Length / 2, bytes.Length - bytes.Length / 2);
                }
            }
            Thread.Sleep(pause);
        }
    });

    [Test]
    public void Watch_RecordsEachCheckpointAsItCompletes_AndWritesTheRank1PredictionOnceTheWindowFits()
    {
        string source = Temp["source"], run = Temp["run"];
        SyntheticSeries.Write(source, new SyntheticModel(1, 10, 16, 5, SafetensorsDType.BF16, Shards: 2), Steps, noise: 1e-4f);
        Directory.CreateDirectory(run);
        var writer = Writer(source, run, Steps, TimeSpan.FromMilliseconds(150));
        writer.Start();

        var (exit, output, error) = CliHarness.Run("watch", run, "--base", SyntheticSeries.Folder(source, 0), "--store", Temp["store"], "--out", Temp["predicted"],
            "--method", "rank1", "--target-multiple", "3", "--poll-seconds", "0.05", "--settle-seconds", "0.5", "--exit-after", "60");
        writer.Join();

        Assert.That(exit, Is.EqualTo(0), error + output);
        TestContext.Out.WriteLine(output);
        foreach (long step in Steps[..4])
            Assert.That(output, Does.Contain($"recorded step {step} from {Path.Combine(run, $"global_step_{step}")}"));
        Assert.That(output, Does.Contain("fit on steps 10, 20, 30, 40: pooled held-out relative error").And.Contain("the window fits"));
        // The hook's geometry: the window runs from the base (step 0) to step 40, so the paper's target is 0 + 3 × 40.
        Assert.That(output, Does.Contain($"wrote {Temp["predicted"]}: step 120 predicted from steps 10, 20, 30, 40"));
        Assert.That(output, Does.Not.Contain("recorded step 50"), "watching ends once the prediction is written");
        // The prediction is the one predict writes on the same four checkpoints.
        var (same, _, sameError) = CliHarness.Run(CliHarness.PredictArgs(source, Steps[..4], 120, Temp["reference"]));
        Assert.That(same, Is.EqualTo(0), sameError);
        foreach (string file in Directory.GetFiles(Temp["reference"]))
            Assert.That(File.ReadAllBytes(Path.Combine(Temp["predicted"], Path.GetFileName(file))), Is.EqualTo(File.ReadAllBytes(file)), file);
    }

    [Test]
    public void Watch_WithoutAFit_StopsAtExitAfter_HavingRecordedWhatWasComplete()
    {
        string source = Temp["source"], run = Temp["run"];
        SyntheticSeries.Write(source, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps[..2]);
        Directory.CreateDirectory(run);
        var writer = Writer(source, run, Steps[..2], TimeSpan.FromMilliseconds(50));
        writer.Start();
        writer.Join();
        Directory.CreateDirectory(Path.Combine(run, "global_step_30")); // a checkpoint whose files never arrive

        var (exit, output, error) = CliHarness.Run("watch", run, "--base", SyntheticSeries.Folder(source, 0), "--store", Temp["store"], "--out", Temp["predicted"],
            "--poll-seconds", "0.05", "--settle-seconds", "0.2", "--exit-after", "1.5");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("recorded step 20").And.Contain($"waiting for {Path.Combine(run, "global_step_30")}: ").And.Contain("holds neither"));
        Assert.That(output, Does.Contain("with 2 checkpoint(s) recorded and no prediction written"));
        Assert.That(Directory.Exists(Temp["predicted"]), Is.False);
    }

    /// <summary>A score command that scores a candidate by its folder name: j = 1 best, W_e (j = 0) next, the rest worse.</summary>
    private static string ScoreByName(string kept = "j1-") =>
        $"sh -c 'case \"$0\" in *{kept}*) echo 0.9 se=0.01;; *j0-*) echo 0.5;; *) echo 0.4 format=1;; esac'";

    private static byte[][] Bytes(string folder) =>
        Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(File.ReadAllBytes).ToArray();

    [TestCase("trl")]
    [TestCase("verl")]
    [TestCase("bare")]
    public void Watch_WithVelocityAndAScoreCommand_KeepsTheBestCandidate_AsTheHookWould_InEachTrainerLayout(string layout)
    {
        string source = Temp["source"], run = Temp["run"];
        SyntheticSeries.Write(source, new SyntheticModel(1, 10, 16, 5, SafetensorsDType.BF16), Steps[..4], noise: 1e-4f);
        Directory.CreateDirectory(run);
        string basePath = SyntheticSeries.Folder(source, 0);
        foreach (long step in Steps[..4])
        {
            string from = Path.Combine(SyntheticSeries.Folder(source, step), Checkpoint.SingleFileName);
            string to = layout switch
            {
                "trl" => Path.Combine(run, $"checkpoint-{step}", Checkpoint.SingleFileName),
                "verl" => Path.Combine(run, $"global_step_{step}", "actor", "huggingface", Checkpoint.SingleFileName),
                _ => Path.Combine(run, $"model-{step}.safetensors"),
            };
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to);
        }
        if (layout == "bare")
        {
            // The trainer's W0 is a bare file in the run folder too; it is the base, not a checkpoint to record.
            File.Copy(Path.Combine(basePath, Checkpoint.SingleFileName), Path.Combine(run, "model-0.safetensors"));
            basePath = Path.Combine(run, "model-0.safetensors");
        }

        var (exit, output, error) = CliHarness.Run("watch", run, "--base", basePath, "--store", Temp["store"], "--out", Temp["predicted"],
            "--score-command", ScoreByName(), "--poll-seconds", "0.05", "--settle-seconds", "0", "--exit-after", "60");

        Assert.That(exit, Is.EqualTo(0), error + output);
        TestContext.Out.WriteLine(output);
        Assert.That(output, Does.Contain("kept j = 1 (step 80) from steps 10, 20, 30, 40 (window from step 0, L = 40)"));
        // The kept checkpoint is the velocity jump predict writes from the whole series to the same step.
        var (same, _, sameError) = CliHarness.Run(CliHarness.PredictArgs(source, Steps[..4], 80, Temp["reference"], "--method", "velocity"));
        Assert.That(same, Is.EqualTo(0), sameError);
        Assert.That(File.ReadAllBytes(Path.Combine(Temp["predicted"], Checkpoint.SingleFileName)),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(Temp["reference"], Checkpoint.SingleFileName))));
        // The record: W_e and every length of the hook's default grid, scored, one kept.
        var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Temp["predicted"] + ".json")).RootElement.GetProperty("candidates");
        Assert.That(record.EnumerateArray().Select(c => c.GetProperty("length").GetDouble()), Is.EqualTo(AlphaRl.Jumps.JumpDefaults.Lengths));
        Assert.That(record.EnumerateArray().Select(c => c.GetProperty("target_step").GetInt64()), Is.EqualTo(AlphaRl.Jumps.JumpDefaults.Lengths.Select(j => 40 + (long)(j * 40))));
        Assert.That(record.EnumerateArray().Single(c => c.GetProperty("kept").GetBoolean()).GetProperty("length").GetDouble(), Is.EqualTo(1));
        Assert.That(record.EnumerateArray().All(c => c.GetProperty("score").ValueKind == System.Text.Json.JsonValueKind.Number));
    }

    [Test]
    public void Watch_KeepsW_e_WhenNoJumpScoresAsWell_AndWithATolerance_KeepsTheBestJump()
    {
        string source = Temp["source"];
        SyntheticSeries.Write(source, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), Steps[..4], noise: 1e-4f);
        string noJump = "sh -c 'case \"$0\" in *j0-*) echo 0.5;; *j1-*) echo 0.45;; *) echo 0.1;; esac'";
        string[] Args(string output, params string[] extra) =>
            ["watch", Temp["run"], "--base", SyntheticSeries.Folder(source, 0), "--store", Temp[output + "-store"], "--out", Temp[output],
             "--score-command", noJump, "--lengths", "0,1,2", "--poll-seconds", "0.05", "--settle-seconds", "0", "--exit-after", "60", .. extra];
        Directory.CreateDirectory(Temp["run"]);
        foreach (long step in Steps[..4]) Directory.Move(SyntheticSeries.Folder(source, step), Path.Combine(Temp["run"], $"step_{step}"));

        var (exit, output, error) = CliHarness.Run(Args("strict"));
        var (tolerant, tolerantOutput, tolerantError) = CliHarness.Run(Args("tolerant", "--tolerance", "0.05"));

        Assert.That((exit, tolerant), Is.EqualTo((0, 0)), error + tolerantError);
        Assert.That(output, Does.Contain("no jump scored at least as well as W_e (step 40)"));
        Assert.That(File.ReadAllBytes(Path.Combine(Temp["strict"], Checkpoint.SingleFileName)),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(Temp["run"], "step_40", Checkpoint.SingleFileName))), "W_e, byte for byte");
        Assert.That(tolerantOutput, Does.Contain("kept j = 1 (step 80)"), "0.45 ≥ 0.5 − 0.05: the hook's rule keeps it");
    }

    [Test]
    public void Watch_WithTheRepeatedSchedule_TriesEveryWindow_AndRestartsTheVelocity()
    {
        string source = Temp["source"], run = Temp["run"];
        long[] steps = [10, 20, 30, 40, 50, 60, 70, 80];
        SyntheticSeries.Write(source, new SyntheticModel(1, 8, 12, 5, SafetensorsDType.F32), steps, noise: 1e-4f);
        Directory.CreateDirectory(run);
        foreach (long step in steps) Directory.Move(SyntheticSeries.Folder(source, step), Path.Combine(run, $"checkpoint-{step}"));

        var (exit, output, error) = CliHarness.Run("watch", run, "--base", SyntheticSeries.Folder(source, 0), "--store", Temp["store"], "--out", Temp["predicted"],
            "--schedule", "repeated", "--score-command", ScoreByName(), "--lengths", "0,1", "--poll-seconds", "0.05", "--settle-seconds", "0", "--exit-after", "3");

        Assert.That(exit, Is.EqualTo(0), error + output);
        Assert.That(output, Does.Contain("kept j = 1 (step 80) from steps 10, 20, 30, 40 (window from step 0, L = 40)"));
        Assert.That(output, Does.Contain("a new window begins at step 40"));
        Assert.That(output, Does.Contain("kept j = 1 (step 120) from steps 50, 60, 70, 80 (window from step 40, L = 40)"));
        Assert.That(output, Does.Contain("2 jump(s) kept"));
        // The second window's velocity is the one of its own four checkpoints, measured from step 40 (as the hook's new window).
        string[] second = ["predict", "--base", SyntheticSeries.Folder(source, 0), "--base-step", "0",
            .. steps[4..].SelectMany(s => new[] { "--checkpoint", $"{s}:{Path.Combine(run, $"checkpoint-{s}")}" }), "--method", "velocity", "--target-step", "120", "--out", Temp["reference"]];
        Assert.That(CliHarness.Run(second).Exit, Is.EqualTo(0));
        Assert.That(File.ReadAllBytes(Path.Combine(Temp["predicted"], "from-step80", Checkpoint.SingleFileName)),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(Temp["reference"], Checkpoint.SingleFileName))));
        Assert.That(File.Exists(Path.Combine(Temp["predicted"], "from-step40.json")) && File.Exists(Path.Combine(Temp["predicted"], "from-step80.json")));
    }

    private string[] RunOf(long[] steps, SafetensorsDType dtype = SafetensorsDType.F32)
    {
        string source = Temp["source"], run = Temp["run"];
        SyntheticSeries.Write(source, new SyntheticModel(1, 8, 12, 5, dtype), steps, noise: 1e-4f);
        Directory.CreateDirectory(run);
        foreach (long step in steps) Directory.Move(SyntheticSeries.Folder(source, step), Path.Combine(run, $"checkpoint-{step}"));
        return ["watch", run, "--base", SyntheticSeries.Folder(source, 0), "--store", Temp["store"], "--out", Temp["predicted"],
            "--poll-seconds", "0.05", "--settle-seconds", "0", "--exit-after", "3"];
    }

    [Test]
    public void Watch_MaxJumps_StopsOnceThatManyJumpsAreKept()
    {
        string[] watch = RunOf([10, 20, 30, 40, 50, 60, 70, 80]);

        var (exit, output, error) = CliHarness.Run([.. watch, "--schedule", "repeated", "--max-jumps", "1", "--score-command", ScoreByName(), "--lengths", "0,1"]);

        Assert.That(exit, Is.EqualTo(0), error + output);
        Assert.That(output, Does.Contain("1 jump(s) kept (--max-jumps 1); stopped watching."));
        Assert.That(output, Does.Not.Contain("recorded step 50"));
        Assert.That(Directory.GetDirectories(Temp["predicted"]).Select(Path.GetFileName), Is.EqualTo(new[] { "from-step40" }));
    }

    [Test]
    public void Watch_SkipSnapshots_LeavesTheWindowsFirstCheckpointsOutOfTheVelocity()
    {
        string[] watch = RunOf(Steps[..4]);
        string run = Temp["run"];

        var (exit, output, error) = CliHarness.Run([.. watch, "--skip-snapshots", "1", "--target-step", "80"]);
        // The slope over steps 20, 30, 40 only, steps measured from the base, as the hook's SkipSnapshots = 1.
        string[] withoutFirst = ["predict", "--base", SyntheticSeries.Folder(Temp["source"], 0),
            .. Steps[1..4].SelectMany(s => new[] { "--checkpoint", $"{s}:{Path.Combine(run, $"checkpoint-{s}")}" }), "--method", "velocity", "--target-step", "80", "--out", Temp["reference"]];
        string[] all = ["predict", "--base", SyntheticSeries.Folder(Temp["source"], 0),
            .. Steps[..4].SelectMany(s => new[] { "--checkpoint", $"{s}:{Path.Combine(run, $"checkpoint-{s}")}" }), "--method", "velocity", "--target-step", "80", "--out", Temp["all"]];

        Assert.That(exit, Is.EqualTo(0), error + output);
        Assert.That((CliHarness.Run(withoutFirst).Exit, CliHarness.Run(all).Exit), Is.EqualTo((0, 0)));
        byte[] written = File.ReadAllBytes(Path.Combine(Temp["predicted"], Checkpoint.SingleFileName));
        Assert.That(written, Is.EqualTo(File.ReadAllBytes(Path.Combine(Temp["reference"], Checkpoint.SingleFileName))));
        Assert.That(written, Is.Not.EqualTo(File.ReadAllBytes(Path.Combine(Temp["all"], Checkpoint.SingleFileName))), "the skip changes the slope");
    }

    [Test]
    public void Watch_Floor_KeepsOnlyAJumpMeetingIt_AndTheRecordGoesWhereJsonSays()
    {
        string[] watch = RunOf(Steps[..4]);
        string score = "sh -c 'case \"$0\" in *j1-*) echo 0.9 format=0.5;; *j2-*) echo 0.8 format=1;; *j0-*) echo 0.5 format=1;; *) echo 0.1 format=1;; esac'";

        var (exit, output, error) = CliHarness.Run([.. watch, "--score-command", score, "--lengths", "0,1,2", "--floor", "format=0.9", "--json", Temp["record.json"]]);

        Assert.That(exit, Is.EqualTo(0), error + output);
        Assert.That(output, Does.Contain("kept j = 2 (step 120)"), "j = 1 scores best but falls below the floor");
        var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Temp["record.json"])).RootElement.GetProperty("candidates");
        Assert.That(record.EnumerateArray().Single(c => c.GetProperty("length").GetDouble() == 1).GetProperty("meets_floors").GetBoolean(), Is.False);
        Assert.That(File.Exists(Temp["predicted"] + ".json"), Is.False);
    }
}
