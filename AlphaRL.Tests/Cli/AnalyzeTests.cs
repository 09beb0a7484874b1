using System.Text.Json;
using AlphaRl.Checkpoints;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;

namespace AlphaRl.Tests.Cli;

public class AnalyzeTests : TempFolderTests
{
    private static readonly long[] Steps = [10, 20, 30, 40];
    private static readonly SyntheticModel Model = new(2, 16, 24, 10, SafetensorsDType.F32);
    private string[] Args(params string[] extra) =>
        ["analyze", "--base", SyntheticSeries.Folder(Temp.Path, 0),
            .. Steps.SelectMany(s => new[] { "--checkpoint", $"{s}:{SyntheticSeries.Folder(Temp.Path, s)}" }), .. extra];

    [Test]
    public void Analyze_Reports_EnergyShareAndOutOfSampleError_PerMatrix_InTheTableAndTheJson()
    {
        SyntheticSeries.Write(Temp.Path, Model, Steps, seed: 1, noise: 0f);
        string json = Temp["report.json"];

        var (exit, output, error) = CliHarness.Run(Args("--json", json));

        Assert.That(exit, Is.EqualTo(0), error);
        Assert.That(output, Does.Contain("model.layers.1.mlp.down_proj.weight").And.Contain("held-out rel. err").And.Contain("14 covered matrices"));
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var matrices = report.RootElement.GetProperty("matrices");
        Assert.That(matrices.GetArrayLength(), Is.EqualTo(14));
        foreach (var m in matrices.EnumerateArray())
        {
            Assert.That(m.GetProperty("energy_share")[3].GetDouble(), Is.EqualTo(1).Within(1e-6), "an exactly rank-1 update holds all its energy in s1");
            Assert.That(m.GetProperty("hold_out_relative_error").GetDouble(), Is.LessThan(1e-4), "an exactly linear path is predicted out of sample");
            Assert.That(m.GetProperty("hold_out_cosine").GetDouble(), Is.EqualTo(1).Within(1e-6));
        }
        Assert.That(report.RootElement.GetProperty("summary").GetProperty("matrices").GetInt32(), Is.EqualTo(14));
    }

    [Test]
    public void Analyze_Shows_LargeOutOfSampleError_WhenThePathIsNoise_EvenThoughInSampleR2IsHigh()
    {
        SyntheticSeries.Write(Temp.Path, Model, Steps, seed: 1, noise: 0.05f, rate: 0f);
        string json = Temp["report.json"];

        var (exit, _, error) = CliHarness.Run(Args("--json", json));

        Assert.That(exit, Is.EqualTo(0), error);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var summary = report.RootElement.GetProperty("summary");
        Assert.That(summary.GetProperty("pooled_hold_out_relative_error").GetDouble(), Is.GreaterThan(0.5));
    }

    [Test]
    public void Analyze_RankOneReconstruction_OfAnExactlyRankOneUpdate_ReproducesTheCheckpoint()
    {
        SyntheticSeries.Write(Temp.Path, Model, Steps, seed: 1, noise: 0f);
        string output = Temp["rank1"];

        var (exit, _, error) = CliHarness.Run(Args("--reconstruct-step", "30", "--reconstruct-out", output));

        Assert.That(exit, Is.EqualTo(0), error);
        using var rebuilt = Checkpoint.Open(output);
        using var original = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 30));
        foreach (string name in original.TensorNames)
            Assert.That(Read(rebuilt, name), Is.EqualTo(Read(original, name)).Within(1e-6), name);
    }

    [Test]
    public void Analyze_RankOneReconstruction_KeepsTheUpdatesNorm_AndDropsTheOtherComponents()
    {
        SyntheticSeries.Write(Temp.Path, Model, Steps, seed: 1, noise: 2e-3f);
        string output = Temp["rank1"];

        var (exit, _, error) = CliHarness.Run(Args("--reconstruct-step", "40", "--reconstruct-out", output, "--rank", "1"));

        Assert.That(exit, Is.EqualTo(0), error);
        using var rebuilt = Checkpoint.Open(output);
        using var at40 = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 40));
        using var w0 = Checkpoint.Open(SyntheticSeries.Folder(Temp.Path, 0));
        string name = "model.layers.0.mlp.gate_proj.weight";
        var dw = Read(at40, name).Zip(Read(w0, name), (a, b) => (double)a - b).ToArray();
        var rank1 = Read(rebuilt, name).Zip(Read(w0, name), (a, b) => (double)a - b).ToArray();
        double Norm(double[] x) => Math.Sqrt(x.Sum(v => v * v));
        Assert.That(Norm(rank1), Is.EqualTo(Norm(dw)).Within(1e-4 * Norm(dw)), "rescaled to ‖dW‖_F");
        var top = AlphaRl.Linalg.TopSingular.Compute(rank1.Select(x => (float)x).ToArray(), 24, 16);
        Assert.That(top.Value, Is.EqualTo(Norm(rank1)).Within(1e-4 * Norm(rank1)), "the reconstruction has rank one");
    }

    [Test]
    public void Analyze_Rejects_ACheckpointStepThatIsNotGiven_ForReconstruction()
    {
        SyntheticSeries.Write(Temp.Path, Model, Steps, seed: 1);

        var (exit, _, error) = CliHarness.Run(Args("--reconstruct-step", "35", "--reconstruct-out", Temp["r"]));

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--reconstruct-step 35"));
        Assert.That(Directory.Exists(Temp["r"]), Is.False);
    }
}
