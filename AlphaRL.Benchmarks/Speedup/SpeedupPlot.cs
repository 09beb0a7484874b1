using ScottPlot;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// The test metric against RL steps trained for every method of a cell: full runs and AlphaRL runs as lines (kept
/// jumps ▲, rejected ×), stopping early and the peers as points at their window's end, the 96% and 100% targets as
/// dotted lines.
/// </summary>
internal static class SpeedupPlot
{
    public static void Save(CellResult cell, string path)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category20();
        int colour = 0;
        foreach (var method in SpeedupReport.MethodOrder)
        {
            var runs = cell.Runs.Where(r => r.Method == method).ToList();
            if (runs.Count == 0) continue;
            var color = palette.GetColor(colour++);
            bool first = true;
            foreach (var run in runs)
            {
                string label = first ? method : "";
                first = false;
                if (run.Curve.Count == 1)
                {
                    var point = plot.Add.Marker(run.Curve[0].Trained, run.Curve[0].Metric, MarkerShape.FilledDiamond, 9);
                    point.Color = color;
                    point.LegendText = label;
                    continue;
                }
                var line = plot.Add.Scatter(run.Curve.Select(p => (double)p.Trained).ToArray(), run.Curve.Select(p => p.Metric).ToArray());
                line.Color = color;
                line.MarkerSize = 0;
                line.LineWidth = method == "full" ? 2.5f : 1.5f;
                if (run.Window is { } w && w * 4 != cell.TotalSteps) line.LinePattern = LinePattern.Dashed; // windows other than 25%
                line.LegendText = label;
                foreach (var jump in run.Jumps)
                {
                    var marker = plot.Add.Marker(jump.TrainedStep, jump.TestMetricAfter, jump.Kept ? MarkerShape.FilledTriangleUp : MarkerShape.Eks, 10);
                    marker.Color = color;
                }
            }
        }
        foreach (var (share, text, pattern) in new[] { (0.96, "96% of the full run's gain", LinePattern.Dotted), (1.0, "100% of the full run's gain", LinePattern.Dashed) })
        {
            var target = plot.Add.HorizontalLine(cell.Target(share));
            target.LinePattern = pattern;
            target.Color = Colors.Gray;
            target.LegendText = text;
        }
        plot.Title($"{cell.Experiment}, seed {cell.Seed}: ▲ kept jump, × rejected, ◆ one-shot method at its window");
        plot.XLabel("RL steps trained");
        plot.YLabel("exact expected reward, test prompts");
        plot.ShowLegend(Alignment.LowerRight);
        plot.Axes.SetLimitsX(0, cell.TotalSteps * 1.02);
        string temporary = path + ".tmp.png";
        plot.SavePng(temporary, 1000, 620);
        File.Move(temporary, path, overwrite: true);
    }
}
