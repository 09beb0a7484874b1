using System.Diagnostics;
using System.Text;
using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

/// <summary>The inputs an independent check found crashing or misreported: each ends with exit 1 or 2 and a message
/// naming the file, the tensor and the problem (or, for finite values, with a result).</summary>
public class HostileInputTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30];
    private const string Q = "model.layers.0.self_attn.q_proj.weight";
    private readonly SyntheticModel _model = new(1, 8, 12, 5, SafetensorsDType.F32);

    private string File(long step) => Path.Combine(SyntheticSeries.Folder(Temp.Path, step), Checkpoint.SingleFileName);

    /// <summary>Overwrites one F32 value of a tensor in a checkpoint file.</summary>
    private void Poke(long step, string tensor, int element, float value) => Poke(Temp.Path, step, tensor, element, value);

    /// <summary>Overwrites one F32 value of a tensor in a checkpoint file of the series written under <paramref name="root"/>.</summary>
    internal static void Poke(string root, long step, string tensor, int element, float value)
    {
        string path = Path.Combine(SyntheticSeries.Folder(root, step), Checkpoint.SingleFileName);
        long at;
        using (var file = SafetensorsFile.Open(path))
            at = file.DataStart + file.Tensor(tensor).Begin + 4L * element;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.Position = at;
        stream.Write(BitConverter.GetBytes(value));
    }

    [Test]
    public void ATensorNameWithALoneSurrogateEscape_IsExit1_NamingTheFile()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        var bytes = System.IO.File.ReadAllBytes(File(20));
        string header = Encoding.UTF8.GetString(bytes, 8, (int)BitConverter.ToUInt64(bytes, 0));
        string mutated = header.Replace("\"model.norm.weight\"", "\"model.norm\\ud800\"");
        var json = Encoding.UTF8.GetBytes(mutated);
        System.IO.File.WriteAllBytes(File(20), [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. bytes.AsSpan(8 + header.Length)]);

        foreach (var args in new[] { CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"]), AnalyzeArgs() })
        {
            var (exit, _, error) = CliHarness.Run(args);
            Assert.That(exit, Is.EqualTo(1), error);
            Assert.That(error, Does.Contain(File(20)).And.Contain("lone UTF-16 surrogate"));
        }
    }

    [Test]
    public void AHugeFiniteValueInACoveredMatrix_IsAnalyzed_NotACrash()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(20, Q, 3, 1e16f);

        var (exit, output, error) = CliHarness.Run(AnalyzeArgs());

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain(Q));
    }

    [TestCase(1e16f)]
    [TestCase(3e38f)]
    public void OneAbsurdWeightInACheckpoint_FailsTheFitGate_NamingTheCheckpoint_AndNothingIsWritten(float weight)
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(20, Q, 3, weight);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"]));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain("pooled held-out relative error").And.Contain(Q).And.Contain("--force"));
        Assert.That(error, Does.Contain($"the checkpoint at step 20 ({SyntheticSeries.Folder(Temp.Path, 20)})"));
        Assert.That(Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName), Is.EquivalentTo(Steps.Prepend(0).Select(s => Path.GetFileName(SyntheticSeries.Folder(Temp.Path, s)))),
            "no output and no temporary folder");
    }

    [TestCase(1e16f)]
    [TestCase(3e38f)]
    public void OneAbsurdWeight_WithForce_IsWritten_WithAWarning_AndEveryValueIsFinite(float weight)
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(20, Q, 3, weight);

        var (exit, output, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"], "--force"));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("warning: --force").And.Contain("step 20"));
        using var written = Checkpoint.Open(Temp["out"]);
        foreach (string name in written.TensorNames)
            Assert.That(Read(written, name).All(float.IsFinite), name);
    }

    [Test]
    public void AWeightNearTheFloatLimitInTheLastCheckpoint_WithForce_IsStillRefused_WhenThePredictionOverflows()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(30, Q, 3, 3e38f);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 90, Temp["out"], "--force"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain(Q).And.Contain("step 90").And.Contain("not finite"));
        Assert.That(Directory.Exists(Temp["out"]), Is.False);
    }

    [TestCase("rank1")]
    [TestCase("direction")]
    public void ANaNInATensorCopiedFromTheLastCheckpoint_IsExit1_AndNothingIsWritten(string method)
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(30, "model.norm.weight", 2, float.NaN);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"], "--method", method, "--force"));

        Assert.That(exit, Is.EqualTo(1), error);
        Assert.That(error, Does.Contain(File(30)).And.Contain("model.norm.weight").And.Contain("element 2").And.Contain("copied into the output"));
        Assert.That(Directory.Exists(Temp["out"]), Is.False);
    }

    [Test]
    public void AnInfiniteValueInTheBase_IsBlamedOnTheBase()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(0, Q, 5, float.PositiveInfinity);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"]));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain(File(0)).And.Contain(Q).And.Contain("of the base").And.Contain("element 5"));
        Assert.That(error, Does.Not.Contain("step 10"));
    }

    [Test]
    public void ANaNInACheckpoint_NamesTheFileTheTensorAndTheStep()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        Poke(20, Q, 0, float.NaN);

        var (exit, _, error) = CliHarness.Run(AnalyzeArgs());

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain(File(20)).And.Contain(Q).And.Contain("at step 20").And.Contain("NaN"));
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase("a\0b")]
    public void AnUnusableOut_IsAUsageError(string output)
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, output));

        Assert.That(exit, Is.EqualTo(2), error);
        Assert.That(error, Does.StartWith("error: --out"));
    }

    [Test]
    public void AnOutInsideAnInputFolder_IsRefused_AndNothingIsWrittenThere()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        string inside = Path.Combine(SyntheticSeries.Folder(Temp.Path, 30), "predicted");

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, inside));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("lies inside the input folder"));
        Assert.That(Directory.GetFileSystemEntries(SyntheticSeries.Folder(Temp.Path, 30)).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "model.safetensors", "config.json", "tokenizer.json" }));
    }

    [Test]
    public void ATargetFarBeyondTheWindow_IsWarnedAbout()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);

        var (near, nearOutput, _) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, Temp["near"]));
        var (far, farOutput, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, long.MaxValue, Temp["far"]));

        Assert.That((near, far), Is.EqualTo((0, 0)), error);
        Assert.That(nearOutput, Does.Not.Contain("warning"));
        Assert.That(farOutput, Does.Contain("warning: target step 9223372036854775807 lies").And.Contain("window lengths beyond the last checkpoint"));
    }

    [Test]
    public void AStaleTemporaryFolderOfAKilledRun_IsReported_AndCleanRemovesOnlyIt()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);
        string stale = Temp[".out.alpharl-tmp-0123"], live = Temp[".other.alpharl-tmp-4567"];
        // The stale folder's owner has this process's id but another start time: a process that ended, its id reused.
        long started = Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks;
        foreach (var (folder, start) in new[] { (stale, started - TimeSpan.TicksPerHour), (live, started) })
        {
            Directory.CreateDirectory(folder);
            System.IO.File.WriteAllText(Path.Combine(folder, StagingFolder.OwnerFileName), $"{Environment.ProcessId}\n{start}\n");
        }

        var (exit, output, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"]));
        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain($"warning: {stale} is the temporary folder of a run that did not finish").And.Contain("alpharl clean"));
        Assert.That(output, Does.Not.Contain(live));

        var (cleaned, cleanOutput, _) = CliHarness.Run("clean", Temp.Path);
        Assert.That(cleaned, Is.EqualTo(0));
        Assert.That(cleanOutput, Does.Contain($"removed: {stale}"));
        Assert.That(Directory.Exists(stale), Is.False);
        Assert.That(Directory.Exists(live), Is.True, "the folder of a running process is kept");
    }

    [Test]
    public void AWrittenOutput_HoldsNoOwnerFile()
    {
        SyntheticSeries.Write(Temp.Path, _model, Steps);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 50, Temp["out"]));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(System.IO.File.Exists(Path.Combine(Temp["out"], StagingFolder.OwnerFileName)), Is.False);
    }

    private string[] AnalyzeArgs() =>
    [
        "analyze", "--base", SyntheticSeries.Folder(Temp.Path, 0),
        .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(Temp.Path, s)}" }),
    ];
}
