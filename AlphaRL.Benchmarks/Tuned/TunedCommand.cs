using System.CommandLine;
using System.Diagnostics;
using AlphaRl.Benchmarks.Speedup;
using Spectre.Console;

namespace AlphaRl.Benchmarks.Tuned;

/// <summary>
/// <c>tuned</c>: the tuned-baseline benchmark (learning-rate sweeps, AlphaRL stacked on them, the cost of tuning). Every
/// run is cached in <c>benchmarks/results/tuned/runs/</c>; the command runs what is missing of the plan (or of the part
/// of it selected by the options) and then writes the report from everything cached.
/// </summary>
internal static class TunedCommand
{
    public static int Invoke(string[] args, string resultsDirectory, string modelCache)
    {
        var quick = new Option<bool>("--quick") { Description = "The quick plan: elicit-forget, GRPO, one development and one held-out seed, a short sweep." };
        var regimes = new Option<string[]>("--regime") { Description = "Regimes to run (default: all of the plan).", AllowMultipleArgumentsPerToken = true };
        var algorithms = new Option<string[]>("--algorithm") { Description = "grpo and/or ppo (default: both).", AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int[]>("--seeds") { Description = "Run only these seeds' runs (default: the plan's development and held-out seeds); the report still uses every cached run.", AllowMultipleArgumentsPerToken = true };
        var stage = new Option<string>("--stage") { Description = "sweep, choose, heldout or all: how far into the plan to run.", DefaultValueFactory = _ => "all" };
        var minutes = new Option<double>("--minutes") { Description = "Stop starting new runs after this many minutes (resume later: finished runs are cached).", DefaultValueFactory = _ => double.PositiveInfinity };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Results folder (default benchmarks/results/tuned, or benchmarks/results/tuned-quick)." };
        var threads = new Option<int?>("--threads") { Description = "Torch's CPU threads in this process (default: Torch's own choice). Two processes of one thread each make better use of 2 cores than one of two on this model." };
        var reportOnly = new Option<bool>("--report-only") { Description = "Run nothing: write the report from the cached runs." };
        var command = new RootCommand("The tuned-baseline benchmark: learning-rate sweeps to their edge, AlphaRL stacked on every rate, and the cost of tuning.")
            { quick, regimes, algorithms, seeds, stage, minutes, output, threads, reportOnly };
        command.SetAction(parse =>
        {
            bool isQuick = parse.GetValue(quick);
            string dir = parse.GetValue(output)?.FullName ?? Path.Combine(resultsDirectory, isQuick ? "tuned-quick" : "tuned");
            var plan = TunedPlan.Create(isQuick, parse.GetValue(regimes), parse.GetValue(algorithms));
            if (!parse.GetValue(reportOnly))
            {
                string stageName = parse.GetValue(stage)!;
                if (stageName is not ("sweep" or "choose" or "heldout" or "all"))
                {
                    Console.Error.WriteLine($"--stage {stageName}: use sweep, choose, heldout or all.");
                    return 2;
                }
                if (SpeedupCommand.Target(null, "fp32") is not { } target) return 2;
                if (parse.GetValue(threads) is { } n)
                {
                    if (n < 1)
                    {
                        Console.Error.WriteLine($"--threads {n}: use 1 or more.");
                        return 2;
                    }
                    global::TorchSharp.torch.set_num_threads(n);
                }
                var clock = Stopwatch.StartNew();
                var harness = new TunedHarness(Path.Combine(dir, "runs"), modelCache, target, message => Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {message}"));
                bool finished = plan.Execute(harness, stageName, parse.GetValue(seeds) is { Length: > 0 } only ? only.ToHashSet() : null, parse.GetValue(minutes) is var m && double.IsFinite(m) ? TimeSpan.FromMinutes(m) : TimeSpan.MaxValue);
                if (!finished) AnsiConsole.MarkupLine("[yellow]Stopped at the time limit; run the same command again to continue.[/]");
            }
            var written = TunedReport.Write(plan, new TunedHarness(Path.Combine(dir, "runs"), modelCache, null!, _ => { }), dir, string.Join(' ', args));
            // The committed speedup summary carries the tuned-baseline fields beside the earlier benchmark's rows.
            if (!isQuick && parse.GetValue(output) is null && TunedReport.PatchSpeedupSummary(Path.Combine(resultsDirectory, "speedup-summary.json"), dir) is { } patched)
                written.Add(patched);
            AnsiConsole.MarkupLine($"Wrote {string.Join(", ", written.Select(Markup.Escape))}.");
            return 0;
        });
        return command.Parse(args).Invoke();
    }
}
