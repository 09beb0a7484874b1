using System.CommandLine;
using System.Globalization;
using AlphaRl.Cli;
using Spectre.Console;

namespace AlphaRl.DevTools;

/// <summary>
/// <c>alpharl-dev hook-series</c> and <c>alpharl-dev hook-score</c>: the checkpoint series and first jump attempt of a
/// hook run, and a score command for <c>alpharl watch --score-command</c> that gives exactly the hook's guard score.
/// </summary>
internal static class HookCommands
{
    public static Command Series(IAnsiConsole console, TextWriter error)
    {
        var (regime, algorithm, seed, window) = PlanOptions();
        var output = new Option<string>("--out") { Description = "Folder to write base/, checkpoint-N/ and hook.json into; must be empty or missing.", Required = true };
        var command = new Command("hook-series", "Train a regime with the hook as the speedup benchmark's velocity arm does, saving the base and every snapshot of the first window as safetensors, until the first jump attempt; write hook.json.")
        {
            regime, algorithm, seed, window, output,
        };
        command.SetAction(r => AlphaRLCli.Guarded(error, () =>
        {
            var plan = HookPlan.Named(r.GetValue(regime)!, r.GetValue(algorithm)!, r.GetValue(seed), r.GetValue(window));
            string folder = Path.GetFullPath(r.GetRequiredValue(output));
            var record = HookSeries.Run(plan, folder, CacheDirectory, console.WriteLine);
            var table = new Table().AddColumns("j", "target step", "score", "kept");
            foreach (var c in record.Candidates)
                table.AddRow(c.NoJump ? "0 (W_e)" : Figure(c.Length), c.TargetStep.ToString(CultureInfo.InvariantCulture), Figure(c.Score), c.Kept ? "yes" : "");
            console.Write(table);
            console.WriteLine($"{(record.Kept ? $"Kept j={Figure(record.KeptLength!.Value)} (step {record.KeptTargetStep})" : "Kept W_e (no candidate passed the guard)")}; " +
                $"{record.TrainSeconds:F0} s of training, {record.WallSeconds:F0} s in all. Wrote {Path.Combine(folder, HookSeries.RecordFile)}.");
        }));
        return command;
    }

    public static Command Score(IAnsiConsole console, TextWriter error)
    {
        var (regime, algorithm, seed, _) = PlanOptions();
        var weights = new Argument<string>("FOLDER") { Description = "A folder holding model.safetensors (a checkpoint or a candidate), or the file." };
        var command = new Command("hook-score", "Print the hook's guard score of a set of weights of the regime's policy (G17, invariant culture): a --score-command for alpharl watch.")
        {
            regime, algorithm, seed, weights,
        };
        command.SetAction(r => AlphaRLCli.Guarded(error, () =>
        {
            var plan = HookPlan.Named(r.GetValue(regime)!, r.GetValue(algorithm)!, r.GetValue(seed), HookPlan.QuarterWindow);
            // The score alone on the last line: the guard reports no standard error.
            console.WriteLine(Figure(HookSeries.Score(plan, r.GetValue(weights)!, CacheDirectory)));
        }));
        return command;
    }

    /// <summary>A number that reads back to the same double.</summary>
    private static string Figure(double value) => value.ToString("G17", CultureInfo.InvariantCulture);

    /// <summary>Where a base other than the committed one is pretrained and cached (not for the elicitation regimes).</summary>
    private static string CacheDirectory => Environment.GetEnvironmentVariable("ALPHARL_CACHE") ?? Path.Combine(Path.GetTempPath(), "alpharl-cache");

    private static (Option<string> Regime, Option<string> Algorithm, Option<int> Seed, Option<int> Window) PlanOptions() =>
    (
        new Option<string>("--regime") { Description = $"The speedup benchmark's regime: {string.Join(", ", HookPlan.Regimes)}.", DefaultValueFactory = _ => HookPlan.Regimes[0] },
        new Option<string>("--algorithm") { Description = "grpo or ppo.", DefaultValueFactory = _ => "grpo" },
        new Option<int>("--seed") { Description = "The RL seed.", DefaultValueFactory = _ => 1 },
        new Option<int>("--window") { Description = $"The window the velocity arm jumps from, in steps (the benchmark's: 25, 50, 80).", DefaultValueFactory = _ => HookPlan.QuarterWindow }
    );
}
