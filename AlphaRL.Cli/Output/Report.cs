using System.Text.Json;
using System.Text.Json.Serialization;
using AlphaRl.Extrapolation;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>Per-matrix figures: energy share of rank 1 at each checkpoint, and the fit's out-of-sample error beside
/// its in-sample R² (which is reported, never trusted: it is near 1 even for noise).</summary>
internal sealed record MatrixReport(
    string Name, int Rows, int Cols, long[] Steps, double[] EnergyShare,
    double? HoldOutRelativeError, double? HoldOutCosine, double? InSampleR2);

internal sealed record ReportSummary(
    int Matrices, double MeanEnergyShareLast, double MinEnergyShareLast,
    double? PooledHoldOutRelativeError, double? PooledHoldOutCosine, double? MedianHoldOutRelativeError,
    string? WorstMatrix, double? WorstHoldOutRelativeError, bool BasePointUsed);

/// <summary>Per tensor of a velocity or direction jump: ‖W_e − W0‖/‖W0‖, the size of the one-window (j = 1) jump relative
/// to ‖W_e‖, and for the velocity the cosine between the slope and the window's displacement W_e − W_s (1 on a straight path).</summary>
internal sealed record TensorJumpReport(string Name, string Shape, double RelativeUpdate, double JumpPerWindow, double? SlopeDisplacementCosine);

/// <summary>One written candidate: its jump length j (in window lengths), target step, folder, and score when scored.</summary>
internal sealed record CandidateReport(double? Length, long TargetStep, string Folder, bool NoJump, double? Score, bool Kept)
{
    /// <summary>The secondary metrics the score command printed after the score, if any.</summary>
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    /// <summary>Whether every <c>--floor</c> held (null without floors; W_e is always eligible, floors or not).</summary>
    public bool? MeetsFloors { get; init; }
}

/// <summary>What a command did. <c>Method</c> is the trajectory fit of the rank-1 jump (step-line, metric-pls) or the
/// jump itself (velocity, direction); <c>Jump</c> is rank1, velocity or direction. Rank-1 figures are in <c>Summary</c> and
/// <c>Matrices</c>; velocity and direction figures in <c>Tensors</c>.</summary>
internal sealed record SeriesReport(string Command, string Method, long BaseStep, long[] Steps, long? TargetStep, string? Form,
    ReportSummary? Summary, IReadOnlyList<MatrixReport> Matrices)
{
    public string? Jump { get; init; }
    public long? WindowLength { get; init; }
    public bool? AllTensors { get; init; }
    public IReadOnlyList<TensorJumpReport>? Tensors { get; init; }
    public string? ScoreCommand { get; init; }
    public IReadOnlyList<CandidateReport>? Candidates { get; init; }
}

internal static class Report
{

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

    public static void WriteJson(string path, SeriesReport report) =>
        File.WriteAllText(path, JsonSerializer.Serialize(report, ReportJson.Default.SeriesReport));

    private static string F(double? x) => x is null ? "—" : double.IsNaN(x.Value) ? "NaN" : x.Value.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture);
}
