using System.Security.Cryptography;
using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Extrapolation;
using AlphaRl.Tests.Checkpoints;
using AlphaRl.Tracking;

namespace AlphaRl.Tests.Cli;

public class PredictTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];
    private const int Seed = 1;
    private static double MaxAbs(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs((double)x - y)).Max();

    [Test]
    public void Predict_Recovers_TheTrueWeightsAtTheTargetStep_OnAnExactLinearRank1Path()
    {
        var model = new SyntheticModel(2, 16, 24, 10, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 0f);
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output));

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        using var last = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 40));
        foreach (var (name, shape) in SyntheticSeries.Tensors(model))
        {
            if (SyntheticSeries.IsCovered(name))
            {
                var truth = SyntheticSeries.Weights(model, Seed, name, shape, 100, noise: 0f, rate: 1e-3f);
                var atLast = Read(last, name);
                Assert.That(MaxAbs(Read(predicted, name), truth), Is.LessThan(1e-6), name);
                Assert.That(MaxAbs(atLast, truth), Is.GreaterThan(1e-3), $"{name}: the jump is not trivial");
            }
            else
            {
                Assert.That(Read(predicted, name), Is.EqualTo(Read(last, name)), $"{name} is copied from the last checkpoint");
            }
        }
    }

    [Test]
    public void Predict_Equals_CoreTrackerFitAndJump_AppliedDirectly_OnTheSameSeries()
    {
        var model = new SyntheticModel(1, 12, 20, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 3e-3f);
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 90, output, "--force"));

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        var checkpoints = Steps.Prepend(0).ToDictionary(s => s, s => Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, s)));
        try
        {
            var tracker = new SubspaceTracker();
            var extrapolator = new StepLineExtrapolator();
            foreach (var (name, shape) in SyntheticSeries.Tensors(model).Where(t => SyntheticSeries.IsCovered(t.Name)))
            {
                int rows = (int)shape[0], cols = (int)shape[1];
                var w0 = Read(checkpoints[0], name);
                foreach (long step in Steps)
                    tracker.Observe(name, step, Read(checkpoints[step], name).Zip(w0, (w, b) => w - b).ToArray(), rows, cols);
                var fit = extrapolator.Fit(name, tracker.Snapshots(name));
                var expected = Read(checkpoints[Steps[^1]], name);
                Rank1Jump.Apply(expected, rows, cols, Rank1Jump.Coefficients(fit, extrapolator.Predict(fit, 90), JumpForm.Increment), fit.LastV);
                Assert.That(Read(predicted, name), Is.EqualTo(expected).Within(1e-7), name);
            }
        }
        finally
        {
            foreach (var c in checkpoints.Values) c.Dispose();
        }
    }

    [Test]
    public void Predict_Keeps_TheInputsDTypeAndSharding_AndCopiesConfigAndTokenizer()
    {
        var model = new SyntheticModel(2, 16, 24, 10, SafetensorsDType.BF16, Shards: 3);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 0f);
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, output));

        Assert.That(exit, Is.EqualTo(0), error);
        string lastFolder = SyntheticSeries.Folder(Temp.Path, 40);
        Assert.That(Directory.GetFiles(output).Select(Path.GetFileName).Order(), Is.EqualTo(Directory.GetFiles(lastFolder).Select(Path.GetFileName).Order()));
        Assert.That(File.ReadAllText(Path.Combine(output, "config.json")), Is.EqualTo(File.ReadAllText(Path.Combine(lastFolder, "config.json"))));
        using var predicted = Checkpoint.Open(output);
        using var last = Checkpoint.Open(lastFolder);
        Assert.That(predicted.IsSharded && predicted.Shards.Count == 3);
        foreach (string name in last.TensorNames)
        {
            Assert.That(predicted.Tensor(name).Info.DType, Is.EqualTo(SafetensorsDType.BF16));
            Assert.That(Path.GetFileName(predicted.Tensor(name).File.Path), Is.EqualTo(Path.GetFileName(last.Tensor(name).File.Path)));
        }
        // bf16 keeps 8 significant bits: the prediction is as close to the truth as bf16 inputs and storage allow,
        // and far closer than the last checkpoint, which is 20 steps behind.
        string q = "model.layers.1.self_attn.q_proj.weight";
        var truth = SyntheticSeries.Weights(model, Seed, q, [16, 16], 60, noise: 0f, rate: 1e-3f);
        double bound = 1e-2 * truth.Max(Math.Abs);
        Assert.That(MaxAbs(Read(predicted, q), truth), Is.LessThan(bound));
        Assert.That(MaxAbs(Read(last, q), truth), Is.GreaterThan(5 * bound));
    }

    [Test]
    public void Predict_Accepts_AnF32BaseWithBf16Checkpoints_AndWritesTheCheckpointsDType()
    {
        var bf16 = new SyntheticModel(1, 16, 24, 6, SafetensorsDType.BF16);
        SyntheticSeries.Write(Temp["f32"], bf16 with { DType = SafetensorsDType.F32 }, [], Seed, noise: 0f);
        SyntheticSeries.Write(Temp["bf16"], bf16, Steps, Seed, noise: 0f);
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(["predict", "--base", SyntheticSeries.Folder(Temp["f32"], 0),
            .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(Temp["bf16"], s)}" }),
            "--target-step", "80", "--out", output]);

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        string name = "model.layers.0.mlp.down_proj.weight";
        Assert.That(predicted.Tensor(name).Info.DType, Is.EqualTo(SafetensorsDType.BF16));
        var truth = SyntheticSeries.Weights(bf16, Seed, name, [16, 24], 80, noise: 0f, rate: 1e-3f);
        Assert.That(MaxAbs(Read(predicted, name), truth), Is.LessThan(1e-2 * truth.Max(Math.Abs)));
    }

    [Test]
    public void Predict_WithTwoCheckpoints_FitsTheBaseAsStepZero_AsInTheIssuesExample()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, [10, 20], Seed, noise: 0f);
        string output = Temp["o"];

        var (exit, text, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, [10, 20], 60, output));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, Does.Contain("base entered the fit as the point x = 0"));
        using var predicted = Checkpoint.Open(output);
        string name = "model.layers.0.mlp.up_proj.weight";
        var truth = SyntheticSeries.Weights(model, Seed, name, [12, 8], 60, noise: 0f, rate: 1e-3f);
        Assert.That(MaxAbs(Read(predicted, name), truth), Is.LessThan(1e-6), "the synthetic path passes through the base");
    }

    [Test]
    public void Predict_Rejects_AShapeMismatchBetweenCheckpoints_NamingTheFile_AndWritesNothing()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);
        string odd = SyntheticSeries.Folder(Temp.Path, 20);
        string file = Path.Combine(odd, Checkpoint.SingleFileName);
        File.Delete(file);
        SafetensorsFile.Write(file, SyntheticSeries.Tensors(model).Select(t =>
            (t.Name, SafetensorsDType.F32, t.Name.Contains("q_proj") ? new long[] { 4, 16 } : t.Shape, new float[t.Shape.Aggregate(1L, (a, b) => a * b)])).ToList());
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, output));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain(file).And.Contain("q_proj").And.Contain("has shape [4, 16], but [8, 8]"));
        Assert.That(Directory.GetDirectories(Temp.Path).Select(Path.GetFileName), Is.EquivalentTo(Steps.Prepend(0).Select(s => Path.GetFileName(SyntheticSeries.Folder(Temp.Path, s)))));
    }

    [Test]
    public void Predict_Rejects_AMalformedCheckpoint_NamingTheFileAndTheProblem()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);
        string file = Path.Combine(SyntheticSeries.Folder(Temp.Path, 30), Checkpoint.SingleFileName);
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..^3]);
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, output));

        Assert.That(exit, Is.Not.EqualTo(0));
        Assert.That(error, Does.Contain(file).And.Contain("out of bounds"));
        Assert.That(Directory.Exists(output), Is.False);
    }

    [Test]
    public void Predict_NeverModifiesItsInputs()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.BF16, Shards: 2);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);
        string Hash() => string.Join(",", Directory.GetFiles(Temp.Path, "*", SearchOption.AllDirectories).Order()
            .Select(f => f + ":" + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))));
        string before = Hash();

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, Path.Combine(Path.GetTempPath(), "alpharl-out-" + Guid.NewGuid().ToString("N"), "o")));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(Hash(), Is.EqualTo(before));
    }

    [Test]
    public void Predict_Refuses_AnExistingOutputFolder()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, SyntheticSeries.Folder(Temp.Path, 10)));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("already exists"));
    }

    [Test]
    public void Predict_AddToLastForm_AddsThePredictedComponentOnTopOfTheLastWeights()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed, noise: 0f);
        string output = Temp["predicted"];

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, output, "--form", "add-to-last"));

        Assert.That(exit, Is.EqualTo(0), error);
        using var predicted = Checkpoint.Open(output);
        string name = "model.layers.0.self_attn.k_proj.weight";
        var w0 = SyntheticSeries.Weights(model, Seed, name, [8, 8], 0, 0f, 1e-3f);
        var w40 = SyntheticSeries.Weights(model, Seed, name, [8, 8], 40, 0f, 1e-3f);
        var w100 = SyntheticSeries.Weights(model, Seed, name, [8, 8], 100, 0f, 1e-3f);
        // Exact path: x̂ vᵀ = W100 − W0, so the released script's form gives W40 + (W100 − W0): the rank-1 part counted twice.
        var expected = w40.Select((w, i) => w + (w100[i] - w0[i])).ToArray();
        Assert.That(MaxAbs(Read(predicted, name), expected), Is.LessThan(1e-6));
    }

    [Test]
    public void Predict_Rejects_ATargetBeforeTheLastCheckpoint_AsAUsageError()
    {
        var model = new SyntheticModel(1, 8, 12, 6, SafetensorsDType.F32);
        SyntheticSeries.Write(Temp.Path, model, Steps, Seed);

        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 35, Temp["o"]));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--target-step 35"));
        Assert.That(Directory.Exists(Temp["o"]), Is.False);
    }
}
