using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using AlphaRl.Tracking;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>
/// <c>analyze</c> on a series of LoRA adapters: per target module, the effective update ΔW_t = scale · B_t A_t of each
/// checkpoint is decomposed from its factors (<see cref="LowRankTopSingular"/>: QR of B and Aᵀ, SVD of the r × r core;
/// never the out × in matrix), and its sign-aligned top triplets go through the same line fit and report as the dense
/// updates of full checkpoints. The base enters the fit as x = 0 when asked: a fresh LoRA has B = 0 there.
/// </summary>
internal static class LoraAnalyze
{
    public static SeriesReport Run(AnalyzeOptions options, IAnsiConsole console, CancellationToken cancellation = default)
    {
        if (options.ReconstructOut is not null || options.ReconstructStep is not null)
            throw new UsageException($"--reconstruct-out and --reconstruct-step are not supported on a series of LoRA adapter folders ({AdapterConfig.FileName}): " +
                "an adapter's update has rank r already.");
        var extrapolator = options.Series.Extrapolator();
        bool basePoint = options.Series.UseBasePoint;
        if (options.Json is not null) OutputChecks.Check(options.Json, "--json");
        using var series = AdapterSeries.Open(options.Series.Checkpoints, options.Series.BaseStep);
        using (var model = Checkpoint.Open(options.Series.Base))
            series.EnsureFits(model, "--base", others: false);
        var tracker = new SubspaceTracker();
        var results = new List<MatrixTrajectory>();
        double scale = series.Config.Scale;
        ConsoleProgress.Run(console, "analyzing", series.Modules.Count, advance =>
        {
            foreach (var m in series.Modules)
            {
                cancellation.ThrowIfCancellationRequested();
                var a = new float[m.Rank * m.Cols];
                var b = new float[m.Rows * m.Rank];
                foreach (var (step, adapter) in series.Window)
                {
                    Finite.Read(adapter.Tensor(m.A), a, $"at step {step}");
                    Finite.Read(adapter.Tensor(m.B), b, $"at step {step}");
                    var triplet = LowRankTopSingular.Compute(b, a, m.Rows, m.Cols, m.Rank, scale);
                    tracker.Record(m.BaseWeight, step, triplet, triplet.MatrixNorm);
                }
                var snapshots = tracker.Snapshots(m.BaseWeight);
                var window = basePoint
                    ? snapshots.Prepend(new Rank1Snapshot(series.BaseStep, 0f, new float[m.Rows], new float[m.Cols], 0f)).ToList()
                    : snapshots.ToList();
                var fit = window.Count >= LineExtrapolator.MinimumSnapshots ? extrapolator.Fit(m.BaseWeight, window) : null;
                results.Add(new MatrixTrajectory(m.BaseWeight, m.Rows, m.Cols, snapshots.ToList(), fit));
                advance(1);
            }
        });
        var config = series.Config;
        var report = Report.Build("analyze", options.Series, series.BaseStep, series.Steps, results, basePoint, null, null) with
        {
            Adapter = new AdapterReport(config.Rank, config.Alpha, config.UseRsLora, config.Scale, series.Modules.Count, null),
        };
        Report.Render(console, report);
        console.WriteLine($"LoRA adapter: r = {config.Rank}, lora_alpha = {config.Alpha:G6}{(config.UseRsLora ? ", rsLoRA" : "")}, scale {config.Scale:G6}; " +
            "each matrix is a target module's effective update ΔW = scale·B A, decomposed from its factors.");
        if (options.Json is not null) Report.WriteJson(options.Json, report);
        return report;
    }
}
