using ScottPlot;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>Test accuracy against RL steps trained: the full run, and each AlphaRL run up to its jump with a marker where it landed.</summary>
internal static class SpeedupPlot
{
    public static void Save(SeedResult seed, string path)
    {
        var plot = new Plot();
        var full = plot.Add.Scatter(seed.FullCurve.Select(p => p.Step).ToArray(), seed.FullCurve.Select(p => p.Accuracy).ToArray());
        full.LegendText = $"full run (T = {seed.TotalSteps})";
        full.LineWidth = 2;
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 1;
        foreach (var run in seed.AlphaRlRuns)
        {
            var color = palette.GetColor(colour++);
            var line = plot.Add.Scatter(run.Curve.Select(p => p.Step).ToArray(), run.Curve.Select(p => p.Accuracy).ToArray());
            line.Color = color;
            line.LinePattern = LinePattern.Dashed;
            line.MarkerSize = 0;
            line.LegendText = $"AlphaRL, window {run.WindowSteps}";
            foreach (var jump in run.Jumps)
            {
                var marker = plot.Add.Marker(jump.TrainedStep, jump.TestAccuracyAfter, jump.Kept ? MarkerShape.FilledTriangleUp : MarkerShape.Eks, 12);
                marker.Color = color;
            }
        }
        var target = plot.Add.HorizontalLine(seed.FinalAccuracy);
        target.LinePattern = LinePattern.Dotted;
        target.Color = Colors.Gray;
        plot.Title($"{seed.Experiment} (seed {seed.Seed}): test accuracy vs RL steps trained (▲ kept jump, × rejected)");
        plot.XLabel("RL steps trained");
        plot.YLabel("greedy test accuracy");
        plot.ShowLegend(Alignment.LowerRight);
        string temporary = path + ".tmp.png";
        plot.SavePng(temporary, 900, 560);
        File.Move(temporary, path, overwrite: true);
    }
}
