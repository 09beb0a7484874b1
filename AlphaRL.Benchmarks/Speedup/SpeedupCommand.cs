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
    public static IReadOnlyList<Experiment> Plan(bool quick)
    {
        var grpo = new RlRunSettings { Algorithm = "grpo", LearningRate = 3e-4, PromptsPerStep = 32, SamplesPerPrompt = 8 };
        var ppo = new RlRunSettings { Algorithm = "ppo", LearningRate = 3e-4, PromptsPerStep = 256, SamplesPerPrompt = 1, Epochs = 2 };
        int[] seeds = [1, 2, 3];
        if (Environment.GetEnvironmentVariable("ALPHARL_EXPLORE") is { } explore)
            return
            [
                new("lr1e-4", grpo with { LearningRate = 1e-4, PromptsPerStep = 64, SamplesPerPrompt = 16 }, [1], 150, [30, 45, 60], Main: false),
                new("lr3e-5", grpo with { LearningRate = 3e-5, PromptsPerStep = 64, SamplesPerPrompt = 16 }, [1], 150, [30, 45, 60], Main: false),
                new("w128", grpo with { LearningRate = 1e-4, PromptsPerStep = 64, SamplesPerPrompt = 16, Width = 128 }, [1], 150, [30, 45, 60], Main: false),
                new("sgd", grpo with { Optimizer = "sgd", LearningRate = double.Parse(explore), PromptsPerStep = 64, SamplesPerPrompt = 16 }, [1], 150, [30, 45, 60], Main: false),
                new("sampled", grpo with { LearningRate = 1e-4, PromptsPerStep = 64, SamplesPerPrompt = 16, EvalSamples = 4 }, [1], 150, [30, 45, 60], Main: false),
            ];
        if (quick)
            return
            [
                new("grpo", grpo, seeds, 100, [20, 30, 40], Main: true),
                new("ppo", ppo, seeds, 100, [20, 30, 40], Main: true),
            ];
        return
        [
            new("grpo", grpo, seeds, 250, [50, 75, 100], Main: true),
            new("ppo", ppo, seeds, 250, [50, 75, 100], Main: true),
            new("grpo-lr1e-4", grpo with { LearningRate = 1e-4 }, [1], 250, [50, 75, 100], Main: false),
            new("grpo-lr1e-3", grpo with { LearningRate = 1e-3 }, [1], 250, [50, 75, 100], Main: false),
        ];
    }

    public static int Run(bool quick, string outputDirectory, string cacheDirectory, string command)
    {
        var plan = Plan(quick);
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
                        results.Add(harness.RunSeed(experiment, seed, steps => task.Increment(steps)));
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
