using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>Turns the per-seed results into the summary rows, the markdown report, the JSON files and the plots.</summary>
internal static class SpeedupReport
{
    private static readonly string[] MethodOrder = ["alpharl", "alpharl_offline", "no_jump", "weight_extrapolation", "expo", "relex"];

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static List<SummaryRow> Summarise(IReadOnlyList<Experiment> plan, IReadOnlyList<SeedResult> results)
    {
        var rows = new List<SummaryRow>();
        foreach (var experiment in plan.Where(e => e.Main))
            foreach (string method in MethodOrder)
                foreach (int window in experiment.Windows)
                {
                    var cells = results.Where(r => r.Experiment == experiment.Name)
                        .SelectMany(r => r.Methods).Where(m => m.Method == method && m.WindowSteps == window).ToList();
                    if (cells.Count == 0) continue;
                    double[] retention = cells.Select(c => c.Retention).ToArray();
                    rows.Add(new SummaryRow(experiment.Settings.Algorithm, method, window, experiment.TotalSteps, cells.Count,
                        cells.Average(c => c.StepsSpeedup), cells.Average(c => c.WallclockSpeedup), retention.Average(), Sd(retention)));
                }
        return rows;
    }

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
        foreach (var experiment in results.Experiments)
        {
            var first = results.Seeds.FirstOrDefault(s => s.Experiment == experiment.Name);
            if (first is null) continue;
            string path = Path.Combine(directory, $"speedup-{experiment.Name}.png");
            SpeedupPlot.Save(first, path);
            written.Add(path);
        }
        return written;
    }

    /// <summary>
    /// Fills <c>tracker_overhead_share</c> of <c>performance-summary.json</c> in <paramref name="directory"/> (when that
    /// file exists) from the speedup results just written there.
    /// </summary>
    public static string? PatchPerformanceSummary(string directory)
    {
        string path = Path.Combine(directory, "performance-summary.json");
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
        var table = new Table().AddColumns("algorithm", "method", "window", "T", "steps speedup", "wall speedup", "retention (mean ± sd)");
        foreach (var r in rows)
            table.AddRow(r.Algorithm, r.Method, F(r.WindowSteps), F(r.TotalSteps), $"{r.StepsSpeedup:F2}x", $"{r.WallclockSpeedup:F2}x", $"{r.RetentionMean:F3} ± {r.RetentionSd:F3}");
        return table;
    }

    private static string Markdown(SpeedupResults results)
    {
        var md = new StringBuilder();
        md.AppendLine("# AlphaRL speedup benchmark");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Command: `{results.Command}` ({results.Mode} mode, {results.ElapsedMinutes:F1} min)");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {results.Machine}");
        md.AppendLine(CultureInfo.InvariantCulture, $"- Date: {results.Date:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine("- Retention = (acc − acc0) / (accT − acc0) on the test prompts; steps speedup = T / RL steps trained; wall-clock speedup = full run's RL time / (RL time + AlphaRL overhead + guard evaluations, or the peer's build and alpha search).");
        md.AppendLine("- Peers act on the full run's checkpoints of the same window; AlphaRL retrains the same seed with the hook (5 snapshots per window, target T, guard on validation accuracy).");
        md.AppendLine();
        md.AppendLine("## Experiments");
        md.AppendLine();
        md.AppendLine("| experiment | algorithm | task | lr | width×layers | prompts×samples | epochs | T | windows | seeds |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var e in results.Experiments)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {e.Name}{(e.Main ? "" : " (regime)")} | {e.Algorithm} | {e.Task} | {e.LearningRate:G3} | {e.Width}×{e.Layers} | {e.PromptsPerStep}×{e.SamplesPerPrompt} | {e.Epochs} | {e.TotalSteps} | {string.Join(", ", e.Windows)} | {string.Join(", ", e.Seeds)} |");
        md.AppendLine();
        md.AppendLine("## Speedup and retention (mean over seeds)");
        md.AppendLine();
        md.AppendLine("| algorithm | method | window | T | seeds | steps speedup | wall-clock speedup | retention mean | retention sd |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results.Rows)
            md.AppendLine(CultureInfo.InvariantCulture, $"| {r.Algorithm} | {r.Method} | {r.WindowSteps} | {r.TotalSteps} | {r.Seeds} | {r.StepsSpeedup:F2}x | {r.WallclockSpeedup:F2}x | {r.RetentionMean:F3} | {r.RetentionSd:F3} |");
        md.AppendLine();
        md.AppendLine("## The paper's two properties on these runs (per seed)");
        md.AppendLine();
        md.AppendLine("Energy share = s1² / ‖dW‖_F² of the final update, over covered matrices. Recovery = retention of W0 + rank-k dW (covered matrices; other tensors at W_T), rescaled to ‖dW‖_F or not. Trajectory fit error: a line in the step fitted to the first half of the run's rank-1 snapshots (every 10 steps), relative error predicting the second half. Overhead = tracker time / RL time at the default interval (10).");
        md.AppendLine();
        md.AppendLine("| experiment | seed | acc0 | accT | energy share mean (min–max) | rank-1 rescaled | rank-1 | rank-2 rescaled | rank-4 rescaled | full | trajectory fit error (cos) | tracker overhead |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in results.Seeds)
        {
            string R(string rank, bool rescaled) => s.RankK.FirstOrDefault(k => k.Rank == rank && k.Rescaled == rescaled) is { } k ? $"{k.Recovery:F2}" : "–";
            md.AppendLine(CultureInfo.InvariantCulture, $"| {s.Experiment} | {s.Seed} | {s.BaseAccuracy:F3} | {s.FinalAccuracy:F3} | {s.EnergyShareMean:F2} ({s.EnergyShareMin:F2}–{s.EnergyShareMax:F2}) | {R("1", true)} | {R("1", false)} | {R("2", true)} | {R("4", true)} | {R("full", false)} | {s.TrajectoryFitRelativeError:F3} ({s.TrajectoryFitCosine:F3}) | {s.TrackerOverheadShare:P2} |");
        }
        md.AppendLine();
        md.AppendLine("## Every method, window and seed");
        md.AppendLine();
        md.AppendLine("| experiment | seed | window | method | steps trained | accuracy | retention | detail |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var s in results.Seeds)
            foreach (var m in s.Methods.OrderBy(m => m.WindowSteps).ThenBy(m => Array.IndexOf(MethodOrder, m.Method)))
                md.AppendLine(CultureInfo.InvariantCulture, $"| {s.Experiment} | {s.Seed} | {m.WindowSteps} | {m.Method} | {m.StepsTrained} | {m.Accuracy:F3} | {m.Retention:F3} | {m.Detail} |");
        md.AppendLine();
        md.AppendLine("## Plots");
        md.AppendLine();
        foreach (var e in results.Experiments)
            md.AppendLine(CultureInfo.InvariantCulture, $"![{e.Name}](speedup-{e.Name}.png)");
        return md.ToString();
    }

    private static void WriteAtomically(string path, string text)
    {
        string temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static double Sd(double[] values)
    {
        if (values.Length < 2) return 0;
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }

    private static string F(int value) => value.ToString(CultureInfo.InvariantCulture);
}
