using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

public class PredictOptionsTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];
    private static readonly SyntheticModel Model = new(1, 8, 12, 6, SafetensorsDType.F32);
    [SetUp]
    public void WriteSeries() => SyntheticSeries.Write(Temp.Path, Model, Steps, seed: 3, noise: 2e-3f);

    [Test]
    public void MetricPls_WithAMetricProportionalToTheStep_PredictsWhatTheStepLinePredicts()
    {
        string byStep = Temp["by-step"], byMetric = Temp["by-metric"];
        var a = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, byStep, "--force"));
        var b = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, byMetric, "--force",
            "--method", "metric-pls", "--metric", "10:0.1", "--metric", "20:0.2", "--metric", "30:0.3", "--metric", "40:0.4", "--target-metric", "1.0"));

        Assert.That((a.Exit, b.Exit), Is.EqualTo((0, 0)), a.Error + b.Error);
        using var x = Checkpoint.Open(byStep);
        using var y = Checkpoint.Open(byMetric);
        foreach (string name in x.TensorNames)
            Assert.That(Read(y, name), Is.EqualTo(Read(x, name)).Within(1e-6), name);
    }

    [Test]
    public void MetricPls_WithoutAMetricForEveryStep_FailsNamingTheStep()
    {
        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 100, Temp["o"],
            "--method", "metric-pls", "--metric", "10:0.1", "--metric", "20:0.2", "--target-metric", "1.0"));

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(error, Does.Contain("No metric was given for step 30"));
        Assert.That(Directory.Exists(Temp["o"]), Is.False);
    }

    [TestCase("10-step-10", "must be STEP:DIR")]
    [TestCase("x:dir", "must be STEP:DIR")]
    public void Predict_Rejects_AMalformedCheckpointArgument_AsAUsageError(string checkpoint, string message)
    {
        var (exit, _, error) = CliHarness.Run("predict", "--base", SyntheticSeries.Folder(Temp.Path, 0), "--checkpoint", checkpoint,
            "--target-step", "60", "--out", Temp["o"]);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain(message));
    }

    [Test]
    public void Predict_Rejects_AnInvalidIncludePattern_AsAUsageError()
    {
        var (exit, _, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, Temp["o"], "--include", "q_proj("));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--include 'q_proj('"));
    }

    [Test]
    public void Predict_WithIncludeAndExclude_JumpsOnlyTheSelectedMatrices_AndCopiesTheRest()
    {
        string output = Temp["o"];
        var (exit, text, error) = CliHarness.Run(CliHarness.PredictArgs(Temp.Path, Steps, 60, output, "--include", @"self_attn\.", "--exclude", "v_proj", "--force"));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, Does.Contain("3 covered matrices"));
        using var predicted = Checkpoint.Open(output);
        using var last = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 40));
        bool Same(string name) => Read(last, name).SequenceEqual(Read(predicted, name));
        Assert.That(Same("model.layers.0.self_attn.q_proj.weight"), Is.False, "q_proj jumped");
        Assert.That(Same("model.layers.0.self_attn.v_proj.weight"), Is.True, "v_proj excluded");
        Assert.That(Same("model.layers.0.mlp.up_proj.weight"), Is.True, "up_proj not included");
    }

    [Test]
    public void Analyze_WithOneCheckpoint_ReportsEnergyShare_WithoutALineFit()
    {
        var (exit, text, error) = CliHarness.Run("analyze", "--base", SyntheticSeries.Folder(Temp.Path, 0), "--checkpoint", $"40:{SyntheticSeries.Folder(Temp.Path, 40)}");

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(text, Does.Contain("7 covered matrices").And.Contain("No line fit"));
    }
}

public class CommandLineTests
{
    [Test]
    public void MissingRequiredOptions_AreAUsageError_NamingEachOption()
    {
        var (exit, _, error) = CliHarness.Run("predict", "--base", "b");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--checkpoint").And.Contain("--target-step").And.Contain("--out"));
    }

    [Test]
    public void UnknownForm_IsAUsageError()
    {
        var (exit, _, error) = CliHarness.Run("predict", "--base", "b", "--checkpoint", "1:c", "--target-step", "2", "--out", "o", "--form", "sideways");

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("sideways"));
    }
}
