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
    public void Watch_RecordsEachCheckpointAsItCompletes_AndWritesThePredictionOnceTheWindowFits()
    {
        string source = Temp["source"], run = Temp["run"];
        SyntheticSeries.Write(source, new SyntheticModel(1, 10, 16, 5, SafetensorsDType.BF16, Shards: 2), Steps, noise: 1e-4f);
        Directory.CreateDirectory(run);
        var writer = Writer(source, run, Steps, TimeSpan.FromMilliseconds(150));
        writer.Start();

        var (exit, output, error) = CliHarness.Run("watch", run, "--base", SyntheticSeries.Folder(source, 0), "--store", Temp["store"], "--out", Temp["predicted"],
            "--poll-seconds", "0.05", "--settle-seconds", "0.5", "--exit-after", "60");
        writer.Join();

        Assert.That(exit, Is.EqualTo(0), error + output);
        TestContext.Out.WriteLine(output);
        foreach (long step in Steps[..4])
            Assert.That(output, Does.Contain($"recorded step {step} from {Path.Combine(run, $"global_step_{step}")}"));
        Assert.That(output, Does.Contain("fit on steps 10, 20, 30, 40: pooled held-out relative error").And.Contain("the window fits"));
        Assert.That(output, Does.Contain($"wrote {Temp["predicted"]}: step 100 predicted from steps 10, 20, 30, 40"));
        Assert.That(output, Does.Not.Contain("recorded step 50"), "watching ends once the prediction is written");
        // The prediction is the one predict writes on the same four checkpoints.
        var (same, _, sameError) = CliHarness.Run(CliHarness.PredictArgs(source, Steps[..4], 100, Temp["reference"]));
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
}
