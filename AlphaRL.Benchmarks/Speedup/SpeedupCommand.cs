using System.Diagnostics;
using System.Runtime.InteropServices;
using AlphaRl.Workloads;
using TorchSharp;
using Spectre.Console;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// <c>speedup [--quick] [--device cpu|cuda[:N]] [--dtype fp32|bf16]</c>: the end-to-end benchmark. Quick mode (a few minutes on 2 cores) writes to
/// <c>benchmarks/results/quick/</c>; full mode writes the committed results to <c>benchmarks/results/</c>.
/// </summary>
internal static class SpeedupCommand
{
    /// <summary>
    /// The device and dtype of <c>--device</c> (null: CUDA when available, else the CPU) and <c>--dtype</c>, checked;
    /// null after writing the error when this machine lacks the device or a name is wrong.
    /// </summary>
    public static RunTarget? Target(string? device, string dtype, TextWriter? error = null)
    {
        try
        {
            var parsed = ComputeDevice.Parse(device ?? ComputeDevice.DefaultName, "--device");
            var weights = ComputeDevice.ParseDType(dtype, "--dtype");
            return new RunTarget(parsed, weights);
        }
        catch (ArgumentException e)
        {
            (error ?? Console.Error).WriteLine(e.Message);
            return null;
        }
    }

    public static int Run(bool quick, string outputDirectory, string cacheDirectory, string command, RunTarget target)
    {
        var plan = Regime.Plan(quick);
        var clock = Stopwatch.StartNew();
        var cells = new List<CellResult>();
        var messages = new List<string>();
        int count = plan.Sum(r => r.Algorithms.Length * r.Seeds.Length);
        AnsiConsole.MarkupLine($"[bold]AlphaRL speedup benchmark[/] ({(quick ? "quick" : "full")} mode): {count} cells ({string.Join(", ", plan.Select(r => r.Name))}), results to {Markup.Escape(outputDirectory)}");
        AnsiConsole.MarkupLine($"Device and weights: {target}{(cuda.is_available() ? "" : " (CUDA is not available here)")}");
        // Without a terminal (CI, a log file) the progress bars cannot redraw: each finished run is reported on a line instead.
        bool interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        var harness = new SpeedupHarness(cacheDirectory, target, message =>
        {
            if (interactive) lock (messages) messages.Add(message);
            else Console.WriteLine($"[{clock.Elapsed:hh\\:mm\\:ss}] {message}");
        });
        AnsiConsole.Progress()
            .AutoRefresh(interactive)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                foreach (var regime in plan)
                    foreach (string algorithm in regime.Algorithms)
                        foreach (int seed in regime.Seeds)
                        {
                            // The full run, two larger-rate runs, and AlphaRL's runs (each at most T steps).
                            int runs = 3 + (SpeedupHarness.AlphaRlMethods.Length - 1) * regime.JumpWindows.Length + 1 + (regime.Quick ? 0 : 1);
                            var task = context.AddTask($"{regime.Name} {algorithm} seed {seed}", maxValue: regime.TotalSteps * runs);
                            cells.Add(harness.RunCell(regime, algorithm, seed, steps => task.Increment(steps)));
                            task.Value = task.MaxValue;
                        }
            });
        foreach (string message in messages) AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

        var rows = SpeedupReport.Summarise(cells);
        var everything = new SpeedupResults(quick ? "quick" : "full", command, Machine(target), DateTimeOffset.UtcNow, clock.Elapsed.TotalMinutes,
            plan.Select(r => r.Record).ToList(), cells, rows);
        var written = SpeedupReport.Write(everything, outputDirectory);
        if (!quick && SpeedupReport.PatchBdnSummary(outputDirectory) is { } patched) written.Add(patched);
        AnsiConsole.Write(SpeedupReport.Table(rows));
        AnsiConsole.MarkupLine($"Finished in {clock.Elapsed.TotalMinutes:F1} min. Wrote {string.Join(", ", written.Select(Markup.Escape))}.");
        return 0;
    }

    /// <summary>Rewrites the summary, the report and the plots from <c>speedup.json</c> in <paramref name="directory"/>.</summary>
    public static int Report(string directory)
    {
        string path = Path.Combine(directory, "speedup.json");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"No results to report: {path} does not exist. Run the benchmark first.");
            return 1;
        }
        var results = SpeedupReport.Read(path);
        var written = SpeedupReport.Write(results with { Rows = SpeedupReport.Summarise(results.Cells) }, directory);
        AnsiConsole.MarkupLine($"Wrote {string.Join(", ", written.Select(Markup.Escape))}.");
        return 0;
    }

    private static string Machine(RunTarget target) =>
        $"{RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores, {RuntimeInformation.FrameworkDescription}, TorchSharp on {target}";
}

/// <summary>Where the benchmark's runs live and the dtype of their weights.</summary>
internal sealed record RunTarget(Device Device, ScalarType DType)
{
    /// <summary>The settings' names of the device and dtype (<see cref="RlRunSettings.Device"/>, <see cref="RlRunSettings.DType"/>).</summary>
    public RlRunSettings ApplyTo(RlRunSettings settings) => settings with
    {
        Device = Device.type == DeviceType.CUDA ? $"cuda:{Math.Max(0, Device.index)}" : "cpu",
        DType = DType == ScalarType.BFloat16 ? "bf16" : "fp32",
    };

    public override string ToString() => ComputeDevice.Describe(Device, DType);
}
