using System.Globalization;
using System.Text.Json;
using AlphaRl.DevTools;
using AlphaRl.Tests.Checkpoints;
using AlphaRl.Workloads;

namespace AlphaRl.Tests.Cli;

/// <summary>
/// <c>alpharl-dev hook-series</c> and <c>hook-score</c> on a small version of the llm-like regime (the committed
/// elicitation base, 2 prompts × 2 samples per step, a window of 5 steps, 32 validation prompts): the series holds the
/// hook's snapshots, and scoring the saved W_e gives the hook's own guard score bit for bit.
/// </summary>
public class HookSeriesTests : TempFolderTests
{
    private static readonly HookPlan Small = new("small", RlRegimes.ElicitLr1e6Grpo with
    {
        PromptsPerStep = 2, SamplesPerPrompt = 2, WarmupSteps = 0, LearningRate = 1e-4, ValidationSize = 32, TestSize = 8,
    }, Window: 5);

    private string Cache => Temp["cache"];

    [Test]
    public void HookSeries_SavesTheBaseAndEverySnapshot_AndScoringTheSavedWe_GivesTheHooksScoreExactly()
    {
        string output = Temp["series"];

        var record = HookSeries.Run(Small, output, Cache);

        Assert.That(record.Window.Snapshots, Is.EqualTo(new long[] { 1, 2, 3, 4, 5 }));
        Assert.That(record.Window.Length, Is.EqualTo(5));
        foreach (string folder in record.Window.Snapshots.Select(HookSeries.CheckpointFolder).Append(HookSeries.BaseFolder))
            Assert.That(File.Exists(Path.Combine(output, folder, "model.safetensors")), folder);
        var we = record.Candidates[0];
        Assert.That((we.NoJump, we.Length, we.TargetStep, we.Folder), Is.EqualTo((true, 0.0, 5L, "checkpoint-5")));
        Assert.That(record.Candidates.Skip(1).Select(c => c.Length), Is.EqualTo(new[] { 0.5, 1, 1.5, 2, 3, 4, 6, 8 }));
        Assert.That(record.Candidates.Count(c => c.Kept), Is.EqualTo(1));
        Assert.That(HookSeries.Score(Small, Path.Combine(output, we.Folder!), Cache), Is.EqualTo(record.ScoreBefore));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, HookSeries.RecordFile)));
        Assert.That(json.RootElement.GetProperty("scoreBefore").GetDouble(), Is.EqualTo(record.ScoreBefore));
    }

    [Test]
    public void HookScore_PrintsTheGuardScore_AsAFigureThatReadsBackExactly()
    {
        var plan = HookPlan.Named("elicit-lr1e-6", "grpo", 1, HookPlan.QuarterWindow);
        string folder = Temp["base"];
        Directory.CreateDirectory(folder);
        File.Copy(AlphaRl.Workloads.Training.ElicitationBase.CommittedPath, Path.Combine(folder, "model.safetensors"));

        var (exit, output, error) = CliHarness.RunDevTools("hook-score", "--regime", "elicit-lr1e-6", "--seed", "1", folder);

        Assert.That(exit, Is.EqualTo(0), error);
        string last = output.TrimEnd().Split('\n')[^1].Trim();
        Assert.That(double.Parse(last, CultureInfo.InvariantCulture), Is.EqualTo(HookSeries.Score(plan, folder, Cache)));
    }

    [Test]
    public void HookScore_WithAnUnknownRegime_IsAUsageError()
    {
        var (exit, _, error) = CliHarness.RunDevTools("hook-score", "--regime", "control", Temp.Path);

        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error, Does.Contain("--regime control"));
    }
}
