using System.Diagnostics;
using System.Runtime.InteropServices;
using AlphaRl.Workloads;
using Spectre.Console;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// <c>speedup [--quick]</c>: the end-to-end benchmark. Quick mode (a few minutes on 2 cores) writes to
/// <c>benchmarks/results/quick/</c>; full mode writes the committed results to <c>benchmarks/results/</c>.
/// </summary>
internal static class SpeedupCommand
{
    /// <summary>
    /// The main task is <paramref name="task"/> (default sort4: the base model starts near 40 % and RL has room to
    /// improve). Quick mode: GRPO and PPO at small batches (256 completions per step), T = 100, 3 seeds. Full mode: the main
    /// GRPO and PPO experiments at 1,024 completions per step and learning rate 1e-4, T = 150, 3 seeds, then single-seed
    /// regime experiments (learning rate, width, optimizer, sampled accuracy) that vary one setting of the GRPO run.
    /// </summary>
    public static IReadOnlyList<Experiment> Plan(bool quick, string task = "sort4")
    {
        int[] seeds = [1, 2, 3];
        if (quick)
        {
            var smallGrpo = new RlRunSettings { Algorithm = "grpo", Task = task, LearningRate = 3e-4, PromptsPerStep = 32, SamplesPerPrompt = 8 };
            var smallPpo = new RlRunSettings { Algorithm = "ppo", Task = task, LearningRate = 3e-4, PromptsPerStep = 256, SamplesPerPrompt = 1, Epochs = 2 };
            return
            [
                new("grpo", smallGrpo, seeds, 100, [20, 30, 40], Main: true),
                new("ppo", smallPpo, seeds, 100, [20, 30, 40], Main: true),
            ];
        }
        var grpo = new RlRunSettings { Algorithm = "grpo", Task = task, LearningRate = 1e-4, PromptsPerStep = 64, SamplesPerPrompt = 16 };
        var ppo = new RlRunSettings { Algorithm = "ppo", Task = task, LearningRate = 1e-4, PromptsPerStep = 1024, SamplesPerPrompt = 1, Epochs = 2 };
        int[] windows = [30, 45, 60];
        return
        [
            new("grpo", grpo, seeds, 150, windows, Main: true),
            new("ppo", ppo, seeds, 150, windows, Main: true),
            new("grpo-lr3e-5", grpo with { LearningRate = 3e-5 }, [1], 150, windows, Main: false),
            new("grpo-lr3e-4", grpo with { LearningRate = 3e-4 }, [1], 150, windows, Main: false),
            new("grpo-width128", grpo with { Width = 128 }, [1], 150, windows, Main: false),
            new("grpo-sgd", grpo with { Optimizer = "sgd", LearningRate = 0.01 }, [1], 150, windows, Main: false),
            new($"grpo-{(task == "add2" ? "sort4" : "add2")}", grpo with { Task = task == "add2" ? "sort4" : "add2" }, [1], 150, windows, Main: false),
            new("grpo-sampled-accuracy", grpo with { EvalSamples = 4 }, [1], 150, windows, Main: false),
        ];
    }

    public static int Run(bool quick, string task, string outputDirectory, string cacheDirectory, string command)
    {
        var plan = Plan(quick, task);
        var clock = Stopwatch.StartNew();
        var results = new List<SeedResult>();
        var messages = new List<string>();
        AnsiConsole.MarkupLine($"[bold]AlphaRL speedup benchmark[/] ({(quick ? "quick" : "full")} mode): {plan.Count} experiments, results to {Markup.Escape(outputDirectory)}");
        var harness = new SpeedupHarness(cacheDirectory, message => { lock (messages) messages.Add(message); });
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                foreach (var experiment in plan)
                    foreach (int seed in experiment.Seeds)
                    {
                        // The full run, then one AlphaRL run per window (each at most T steps).
                        int work = experiment.TotalSteps * (1 + (experiment.Main ? experiment.Windows.Length : 0));
                        var task = context.AddTask($"{experiment.Name} seed {seed}", maxValue: work);
                        try
                        {
                            results.Add(harness.RunSeed(experiment, seed, steps => task.Increment(steps)));
                        }
                        catch (Exception e) when (!experiment.Main)
                        {
                            // A regime experiment that cannot run (e.g. its base model never reaches the target) is reported, not fatal.
                            lock (messages) messages.Add($"{experiment.Name} seed {seed} failed: {e.Message}");
                        }
                        task.Value = task.MaxValue;
                    }
            });
        foreach (string message in messages) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

        var rows = SpeedupReport.Summarise(plan, results);
        var everything = new SpeedupResults(quick ? "quick" : "full", command, Machine(), DateTimeOffset.UtcNow, clock.Elapsed.TotalMinutes,
            plan.Select(e => e.Record).ToList(), results, rows);
        var written = SpeedupReport.Write(everything, outputDirectory);
        if (!quick && SpeedupReport.PatchPerformanceSummary(outputDirectory) is { } patched) written.Add(patched);
        AnsiConsole.Write(SpeedupReport.Table(rows));
        AnsiConsole.MarkupLine($"Finished in {clock.Elapsed.TotalMinutes:F1} min. Wrote {string.Join(", ", written.Select(Markup.Escape))}.");
        return 0;
    }

    private static string Machine() =>
        $"{RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, TorchSharp CPU";
}
