using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AlphaRl.Workloads.Evaluation;
using Spectre.Console;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>Turns the cells into the summary rows, the markdown report, the JSON files and the plots.</summary>
internal static class SpeedupReport
{
    public static readonly string[] MethodOrder =
        ["full", "full_lr3x", "full_lr10x", "no_jump", "weight_extrapolation", "expo", "relex", .. SpeedupHarness.AlphaRlMethods, "alpharl_velocity_lr3x"];

    /// <summary>The benchmarks' JSON: snake_case names, indented, NaN and infinities written by name.</summary>
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// One row per regime × algorithm × method, means over seeds. A method's steps to a threshold are the fewest RL steps
    /// trained after which any of its runs (any window) measured at least that share of the full run's final gain on the
    /// test metric; null unless every seed got there. Retention at 4x (2.5x) is that of the weights after T/4 (T/2.5)
    /// trained steps: from the run whose window ends there, else from the method's only run.
    /// </summary>
    public static List<SummaryRow> Summarise(IReadOnlyList<CellResult> cells)
    {
        var rows = new List<SummaryRow>();
        foreach (var group in cells.GroupBy(c => (c.Regime, c.Algorithm)))
            foreach (string method in MethodOrder)
            {
                var perSeed = group.Select(c => (Cell: c, Runs: c.Runs.Where(r => r.Method == method).ToList())).Where(x => x.Runs.Count > 0).ToList();
                if (perSeed.Count == 0) continue;
                int total = perSeed[0].Cell.TotalSteps;
                var to96 = perSeed.Select(x => Reach(x.Cell, x.Runs, 0.96)).ToList();
                var to100 = perSeed.Select(x => Reach(x.Cell, x.Runs, 1.0)).ToList();
                var fullWall = perSeed.Select(x => x.Cell.Runs.Single(r => r.Method == "full").Curve[^1].WallSeconds).ToList();
                double[] at4 = perSeed.Select(x => x.Cell.Retention(MetricAt(x.Runs, total / 4))).ToArray();
                double[] at25 = perSeed.Select(x => x.Cell.Retention(MetricAt(x.Runs, (int)(total / 2.5)))).ToArray();
                double? Mean(List<(int Steps, double Wall)?> reach, Func<(int Steps, double Wall), double> f) =>
                    reach.All(r => r is not null) ? reach.Average(r => f(r!.Value)) : null;
                double? WallSpeedup(List<(int Steps, double Wall)?> reach) =>
                    reach.All(r => r is not null) ? reach.Select((r, i) => fullWall[i] / r!.Value.Wall).Average() : null;
                rows.Add(new SummaryRow(group.Key.Regime, group.Key.Algorithm, method, perSeed.Count, total,
                    Mean(to96, r => r.Steps), Mean(to100, r => r.Steps),
                    Mean(to96, r => (double)total / r.Steps), Mean(to100, r => (double)total / r.Steps),
                    WallSpeedup(to96), WallSpeedup(to100),
                    at4.Average(), Sd(at4), at25.Average(), Sd(at25),
                    perSeed.Average(x => x.Runs.Average(r => r.Evaluations)),
                    new ReachedCounts(to96.Count(r => r is not null), to100.Count(r => r is not null))));
            }
        return rows;
    }

    /// <summary>Fewest steps (and the wall time then) after which any run of the method reached the threshold (<see cref="Curve.FirstReach"/>).</summary>
    private static (int Steps, double Wall)? Reach(CellResult cell, IEnumerable<MethodRun> runs, double share)
    {
        double target = cell.Target(share);
        var hits = runs
            .Select(r => (Run: r, Steps: CurveOf(r).FirstReach(target)))
            .Where(h => h.Steps is not null)
            .Select(h => (Steps: h.Steps!.Value, Wall: h.Run.Curve.First(p => p.Metric >= target - Curve.Epsilon).WallSeconds))
            .ToList();
        if (hits.Count == 0) return null;
        return hits.OrderBy(h => h.Steps).ThenBy(h => h.Wall).First();
    }

    /// <summary>The metric after <paramref name="steps"/> trained (<see cref="Curve.At"/>), from the run whose window ends there if any.</summary>
    private static double MetricAt(IReadOnlyList<MethodRun> runs, int steps)
    {
        var run = runs.FirstOrDefault(r => r.Window == steps) ?? runs.FirstOrDefault(r => r.Window is null)
            ?? runs.OrderBy(r => Math.Abs(r.Window!.Value - steps)).First();
        return CurveOf(run).At(steps);
    }

    private static Curve CurveOf(MethodRun run) => Curve.Of(run.Curve.Select(p => (p.Trained, p.Metric)));

    /// <summary>Reads the results a run wrote to <c>speedup.json</c>.</summary>
    public static SpeedupResults Read(string path) =>
        JsonSerializer.Deserialize<SpeedupResults>(File.ReadAllText(path), Json)
        ?? throw new InvalidDataException($"{path} holds no speedup results.");

    public static List<string> Write(SpeedupResults results, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        void Save(string name, string text)
        {
            string path = Path.Combine(directory, name);
            WriteAtomically(path, text);
            written.Add(path);
        }
        Save("speedup.json", JsonSerializer.Serialize(results, Json));
        Save("speedup-summary.json", JsonSerializer.Serialize(new { rows = results.Rows }, Json));
        Save("speedup.md", Markdown(results));
        foreach (var cell in results.Cells.GroupBy(c => c.Experiment).Select(g => g.First()))
        {
            string path = Path.Combine(directory, $"speedup-{cell.Experiment}.png");
            SpeedupPlot.Save(cell, path);
            written.Add(path);
        }
        return written;
    }

    /// <summary>
    /// Fills <c>tracker_overhead_share</c> of <c>bdn-summary.json</c> in <paramref name="directory"/> (when that
    /// file exists) from the speedup results just written there. <c>performance-summary.json</c> is left alone: every
    /// field of it comes from one run of the performance-summary command.
    /// </summary>
    public static string? PatchBdnSummary(string directory)
    {
        string path = Path.Combine(directory, "bdn-summary.json");
        double? share = ResultsSummary.TrackerOverheadShare(Path.Combine(directory, "speedup.json"));
        if (!File.Exists(path) || share is null) return null;
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        root["tracker_overhead_share"] = Math.Round(share.Value, 4);
        root["notes"]!["tracker_overhead_share"] = ResultsSummary.TrackerOverheadNote;
        WriteAtomically(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return path;
    }

    public static Table Table(IReadOnlyList<SummaryRow> rows)
    {
        var table = new Table().AddColumns("regime", "algorithm", "method", "steps to 96% (speedup)", "steps to 100% (speedup)", "wall speedup to 96%", "retention at 4x", "at 2.5x", "evaluations");
        foreach (var r in rows)
            table.AddRow(r.Regime, r.Algorithm, r.Method, Reached(r.StepsTo96, r.SpeedupTo96, r.Reached.To96, r.Seeds), Reached(r.StepsTo100, r.SpeedupTo100, r.Reached.To100, r.Seeds),
                r.WallclockSpeedupTo96 is { } w ? $"{w:F2}x" : "–", $"{r.RetentionAt4x:F2}", $"{r.RetentionAt2_5x:F2}", $"{r.Evaluations:F0}");
        return table;
    }

    private static string Reached(double? steps, double? speedup, int reached, int seeds) =>
        steps is null ? $"not reached ({reached}/{seeds} seeds)" : $"{steps:F0} ({speedup:F2}x)";

    private static string Markdown(SpeedupResults results)
    {
        var md = new StringBuilder();
        md.AppendLine("# AlphaRL speedup benchmark");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{results.Command}` ({results.Mode} mode, {results.ElapsedMinutes:F1} min)");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {results.Machine}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Date: {results.Date:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine("- Metric: the exact expected reward on the test prompts (mean probability of sampling the correct answer; no sampling noise). Gain = metric − metric at step 0; retention = gain / the full run's gain at T.");
        md.AppendLine("- Steps to 96% / 100%: the fewest RL steps trained after which the method's weights measured at least that share of the full run's final gain (any of its windows); speedup = T / those steps; \"not reached\" unless every seed got there. Wall-clock includes AlphaRL's overhead, the guard's evaluations and the peers' builds and alpha search; the benchmark's own test measurements are excluded.");
        md.AppendLine("- Peers and stopping early act on the full run's checkpoints at each window's end; AlphaRL's methods retrain the seed with the hook (guard on the validation expected reward) and train on after the jump until they reach the full run's final metric (and at least 40% of T) or T.");
        md.AppendLine();
        md.AppendLine("## Regimes");
        md.AppendLine();
        md.AppendLine("| regime | task | width×layers | lr | T | windows | snapshots | trains | algorithms | seeds |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.Regimes)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Name} | {r.Task} | {r.Width}×{r.Layers} | {r.LearningRate:G3} | {r.TotalSteps} | {string.Join(", ", r.Windows)} | {r.SnapshotsPerWindow} per window | {(r.TrainOnlyCovered ? "covered matrices" : "every tensor")} | {string.Join(", ", r.Algorithms)} | {string.Join(", ", r.Seeds)} |");
        md.AppendLine();
        md.AppendLine("## Steps to the full run's gain (mean over seeds)");
        md.AppendLine();
        md.AppendLine("| regime | algorithm | method | steps to 96% (speedup) | steps to 100% (speedup) | wall-clock speedup to 96% / 100% | retention at 4x fewer steps | at 2.5x | evaluations |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.Rows)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Regime} | {r.Algorithm} | {r.Method} | {Reached(r.StepsTo96, r.SpeedupTo96, r.Reached.To96, r.Seeds)} | {Reached(r.StepsTo100, r.SpeedupTo100, r.Reached.To100, r.Seeds)} | {X(r.WallclockSpeedupTo96)} / {X(r.WallclockSpeedupTo100)} | {r.RetentionAt4x:F2} ± {r.RetentionAt4xSd:F2} | {r.RetentionAt2_5x:F2} ± {r.RetentionAt2_5xSd:F2} | {r.Evaluations:F0} |");
        md.AppendLine();
        md.AppendLine("## The paper's properties on the full runs (per seed)");
        md.AppendLine();
        md.AppendLine("‖dW‖/‖W0‖ and energy share s1²/‖dW‖² of the covered matrices at T; rank-1 recovery = retention of W0 + rank-1 part of dW (rescaled to ‖dW‖ or not; other tensors at W_T); trajectory fit error = held-out relative error of a rank-1 line fitted on the first half of the run's snapshots (every 10 steps), predicting the second half; velocity cosine and step-norm trend = AlphaRL's diagnostics over the first window (alpharl_velocity run).");
        md.AppendLine();
        md.AppendLine("| regime | algorithm | seed | metric0 → metricT | greedy acc0 → accT | ‖dW‖/‖W0‖ | energy share | rank-1 recovery rescaled / not | trajectory fit error | velocity cosine | step-norm trend | tracker overhead |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in results.Cells)
        {
            var p = c.Properties;
            md.AppendLine(CultureInfo.InvariantCulture, $"| {c.Regime} | {c.Algorithm} | {c.Seed} | {c.Metric0:F4} → {c.MetricT:F4} | {c.Accuracy0:F3} → {c.AccuracyT:F3} | {p.UpdateToBase:E2} | {p.EnergyShare:F2} | {p.Rank1RecoveryRescaled:F2} / {p.Rank1Recovery:F2} | {p.TrajectoryFitError:F3} | {N(p.VelocityCosine)} | {N(p.StepNormTrend)} | {c.TrackerOverheadShare:P2} |");
        }
        md.AppendLine();
        md.AppendLine("## Every run (per seed)");
        md.AppendLine();
        md.AppendLine("| regime | algorithm | seed | method | window | steps trained | final metric | retention | evaluations | detail |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in results.Cells)
            foreach (var r in c.Runs)
                md.AppendLine(CultureInfo.InvariantCulture, $"| {c.Regime} | {c.Algorithm} | {c.Seed} | {r.Method} | {(r.Window is { } w ? w.ToString(CultureInfo.InvariantCulture) : "–")} | {r.Curve[^1].Trained} | {r.Curve[^1].Metric:F4} | {c.Retention(r.Curve[^1].Metric):F2} | {r.Evaluations} | {r.Detail} |");
        md.AppendLine();
        md.AppendLine("## Plots (first seed of each regime and algorithm)");
        md.AppendLine();
        foreach (var c in results.Cells.GroupBy(c => c.Experiment).Select(g => g.First()))
            md.AppendLine(CultureInfo.InvariantCulture, $"![{c.Experiment}](speedup-{c.Experiment}.png)");
        return md.ToString();
    }

    private static string X(double? v) => v is { } x ? $"{x:F2}x" : "–";

    private static string N(double? v) => v is { } x ? x.ToString("F3", CultureInfo.InvariantCulture) : "–";

    /// <summary>Writes <paramref name="text"/> to a temporary file beside <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    internal static void WriteAtomically(string path, string text)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The sample standard deviation (0 for fewer than two values).</summary>
    internal static double Sd(double[] values)
    {
        if (values.Length < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }
}
