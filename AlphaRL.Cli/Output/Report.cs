using System.Text.Json;
using AlphaRl.Extrapolation;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>Builds a <see cref="SeriesReport"/>, renders it as tables and writes it as JSON.</summary>
internal static class Report
{
    /// <summary>The report of a command on a series: its steps, and the figures of each covered matrix processed.</summary>
    public static SeriesReport Build(string command, SeriesOptions options, CheckpointSeries series, List<MatrixTrajectory> results,
        bool basePoint, long? target, string? form) =>
        Build(command, options, series.BaseStep, series.Steps, results, basePoint, target, form);

    /// <summary>The report of a command on a series given by its base step and window steps.</summary>
    public static SeriesReport Build(string command, SeriesOptions options, long baseStep, IReadOnlyList<long> steps, List<MatrixTrajectory> results,
        bool basePoint, long? target, string? form) =>
        new(command, options.Method, baseStep, steps.ToArray(), target, form,
            results.Count > 0 ? Summarize(results, basePoint) : null, results.Select(Of).ToList());

    public static MatrixReport Of(MatrixTrajectory m) => new(
        m.Name, m.Rows, m.Cols,
        m.Snapshots.Select(s => s.Step).ToArray(),
        m.Snapshots.Select(s => s.EnergyShare).ToArray(),
        m.Fit?.HoldOut.RelativeError, m.Fit?.HoldOut.Cosine, m.Fit?.InSampleR2);

    public static ReportSummary Summarize(IReadOnlyList<MatrixTrajectory> matrices, bool basePoint)
    {
        var last = matrices.Select(m => m.Snapshots[^1].EnergyShare).ToList();
        var fits = matrices.Where(m => m.Fit is not null).Select(m => m.Fit!).ToList();
        var pooled = fits.Count > 0 ? FitQuality.Combine(fits.Select(f => f.HoldOut)) : null;
        var errors = fits.Select(f => f.HoldOut.RelativeError).Order().ToList();
        var worst = fits.MaxBy(f => f.HoldOut.RelativeError);
        return new ReportSummary(matrices.Count, last.Average(), last.Min(),
            pooled?.RelativeError, pooled?.Cosine, errors.Count > 0 ? errors[errors.Count / 2] : null,
            worst?.Matrix, worst?.HoldOut.RelativeError, basePoint);
    }

    public static void Render(IAnsiConsole console, SeriesReport report)
    {
        if (report.Summary is null)
        {
            RenderTensors(console, report);
            return;
        }
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("matrix").NoWrap()).AddColumn(new TableColumn("shape").RightAligned())
            .AddColumn(new TableColumn("s1²/‖dW‖² (last)").RightAligned())
            .AddColumn(new TableColumn("held-out rel. err").RightAligned())
            .AddColumn(new TableColumn("held-out cos").RightAligned())
            .AddColumn(new TableColumn("in-sample R²").RightAligned());
        foreach (var m in report.Matrices)
            table.AddRow(Markup.Escape(m.Name), $"{m.Rows}×{m.Cols}", F(m.EnergyShare[^1]), F(m.HoldOutRelativeError), F(m.HoldOutCosine), F(m.InSampleR2));
        console.Write(table);
        var s = report.Summary;
        console.WriteLine($"{s.Matrices} covered matrices; rank-1 energy share at step {report.Steps[^1]}: mean {F(s.MeanEnergyShareLast)}, min {F(s.MinEnergyShareLast)}.");
        if (s.PooledHoldOutRelativeError is not null)
            console.WriteLine($"Out-of-sample line fit (latest snapshots held out): pooled relative error {F(s.PooledHoldOutRelativeError)}, cosine {F(s.PooledHoldOutCosine)}, " +
                $"median relative error {F(s.MedianHoldOutRelativeError)}, worst {F(s.WorstHoldOutRelativeError)} ({s.WorstMatrix}).");
        else
            console.WriteLine($"No line fit: it needs {LineExtrapolator.MinimumSnapshots} points (two to fit, one held out).");
        if (s.BasePointUsed)
            console.WriteLine($"The base entered the fit as the point x = 0 at step {report.BaseStep}.");
        console.WriteLine("In-sample R² is shown for comparison only: with few points in high dimension it is near 1 even for noise.");
    }

    private static void RenderTensors(IAnsiConsole console, SeriesReport report)
    {
        var tensors = report.Tensors ?? [];
        bool velocity = report.Jump == "velocity";
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("tensor").NoWrap()).AddColumn(new TableColumn("shape").RightAligned())
            .AddColumn(new TableColumn("‖W_e − W0‖/‖W0‖").RightAligned())
            .AddColumn(new TableColumn("‖jump j=1‖/‖W_e‖").RightAligned());
        if (velocity) table.AddColumn(new TableColumn("cos(b, W_e − W_s)").RightAligned());
        foreach (var t in tensors)
        {
            var cells = new List<string> { Markup.Escape(t.Name), Markup.Escape(t.Shape), F(t.RelativeUpdate), F(t.JumpPerWindow) };
            if (velocity) cells.Add(F(t.SlopeDisplacementCosine));
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        console.WriteLine($"{tensors.Count} tensors extrapolated ({report.Jump}" + (report.AllTensors == true ? ", all float tensors" : ", covered matrices") +
            $"); the others are copied from step {report.Steps[^1]}.");
        if (velocity && tensors.Count > 0)
            console.WriteLine($"cos(b, W_e − W_s): mean {F(tensors.Average(t => t.SlopeDisplacementCosine ?? double.NaN))}, " +
                $"min {F(tensors.Min(t => t.SlopeDisplacementCosine ?? double.NaN))} (1 on a straight path; low values say the path bends).");
    }

    /// <summary>The table of a predicted LoRA adapter: per target module, ‖ΔW‖_F and the rank-1 share of ΔW = scale · B A
    /// at the last checkpoint and at the target step.</summary>
    public static void RenderModules(IAnsiConsole console, SeriesReport report)
    {
        var modules = report.Modules ?? [];
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("target module (base weight)").NoWrap()).AddColumn(new TableColumn("shape").RightAligned())
            .AddColumn(new TableColumn("r").RightAligned())
            .AddColumn(new TableColumn($"‖ΔW‖ step {report.Steps[^1]}").RightAligned())
            .AddColumn(new TableColumn($"‖ΔW‖ step {report.TargetStep}").RightAligned())
            .AddColumn(new TableColumn("s1²/‖ΔW‖² (last)").RightAligned())
            .AddColumn(new TableColumn("s1²/‖ΔW‖² (predicted)").RightAligned());
        foreach (var m in modules)
            table.AddRow(Markup.Escape(m.Name), $"{m.Rows}×{m.Cols}", m.Rank.ToString(System.Globalization.CultureInfo.InvariantCulture),
                F(m.UpdateNormLast), F(m.UpdateNormPredicted), F(m.EnergyShareLast), F(m.EnergySharePredicted));
        console.Write(table);
        if (report.Adapter is { } a)
            console.WriteLine($"LoRA adapter: r = {a.Rank}, lora_alpha = {a.Alpha:G6}{(a.UseRslora ? ", rsLoRA" : "")}, scale {a.Scale:G6}; " +
                $"{a.Modules} target modules; ΔW = scale·B A, from its factors (never formed).");
    }

    /// <summary>The candidates table: jump length, target step, folder and, when scored, the score and which was kept.</summary>
    public static void RenderCandidates(IAnsiConsole console, IReadOnlyList<CandidateReport> candidates, bool scored)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumn(new TableColumn("length j").RightAligned()).AddColumn(new TableColumn("target step").RightAligned());
        bool floored = candidates.Any(c => c.MeetsFloors is not null);
        if (scored) table.AddColumn(new TableColumn("score").RightAligned()).AddColumn(new TableColumn("kept"));
        if (floored) table.AddColumn(new TableColumn("floors"));
        else table.AddColumn(new TableColumn("folder").NoWrap());
        foreach (var c in candidates)
        {
            string length = (c.Length is { } j ? Candidate.FormatLength(j) : "—") + (c.NoJump ? " (W_e)" : "");
            if (scored)
            {
                var cells = new List<string> { length, c.TargetStep.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    c.Score?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture) ?? "—", c.Kept ? "kept" : "" };
                if (floored) cells.Add(c.NoJump ? "—" : c.MeetsFloors == true ? "met" : "below a floor");
                table.AddRow(cells.ToArray());
            }
            else
                table.AddRow(length, c.TargetStep.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(c.Folder));
        }
        console.Write(table);
    }

    /// <summary>Writes the report's JSON atomically (a temporary file beside it, then renamed).</summary>
    public static void WriteJson(string path, SeriesReport report) =>
        AtomicFile.Write(path, temp => File.WriteAllText(temp, JsonSerializer.Serialize(report, ReportJson.Default.SeriesReport)));

    private static string F(double? x) => x is null ? "—" : double.IsNaN(x.Value) ? "NaN" : x.Value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
}
