using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>What <c>predict</c> and <c>analyze</c> share: the series, the covered matrices and how the line is fitted.</summary>
internal sealed record SeriesOptions(
    string Base, IReadOnlyList<StepFolder> Checkpoints, long BaseStep = 0, MatrixSelection? Selection = null,
    string BasePoint = "auto", string Method = "step-line", IReadOnlyDictionary<long, double>? Metrics = null, double? TargetMetric = null)
{
    /// <summary>Whether the base enters the fit as x = 0: always for "yes", never for "no", and for "auto" only when
    /// the checkpoints alone are too few for a fit judged out of sample.</summary>
    public bool UseBasePoint => BasePoint switch
    {
        "yes" => true,
        "no" => false,
        "auto" => Checkpoints.Count < LineExtrapolator.MinimumSnapshots,
        _ => throw new UsageException($"--base-point must be auto, yes or no; got '{BasePoint}'."),
    };

    public IExtrapolator Extrapolator() => Method switch
    {
        "step-line" => new StepLineExtrapolator(),
        "metric-pls" when Metrics is { Count: > 0 } && TargetMetric is not null => new MetricPlsExtrapolator(Metrics, TargetMetric.Value),
        "metric-pls" => throw new UsageException("--method metric-pls needs --metric STEP:VALUE for every checkpoint step and --target-metric."),
        _ => throw new UsageException($"--method must be step-line or metric-pls; got '{Method}'."),
    };
}

internal sealed record PredictOptions(SeriesOptions Series, long TargetStep, string Out, JumpForm Form = JumpForm.Increment, string? Json = null);

internal sealed record AnalyzeOptions(SeriesOptions Series, string? Json = null, int RankK = 1, long? ReconstructStep = null, string? ReconstructOut = null);

/// <summary>The offline commands, independent of the command-line parser so that tests can call them directly.</summary>
internal static class OfflineCommands
{
    public static SeriesReport Predict(PredictOptions options, IAnsiConsole console, CancellationToken cancellation = default)
    {
        var extrapolator = options.Series.Extrapolator();
        bool basePoint = options.Series.UseBasePoint;
        int points = options.Series.Checkpoints.Count + (basePoint ? 1 : 0);
        if (points < LineExtrapolator.MinimumSnapshots)
            throw new UsageException($"predict needs at least {LineExtrapolator.MinimumSnapshots} points to fit and judge a line; " +
                $"{options.Series.Checkpoints.Count} checkpoint(s) given" + (basePoint ? " plus the base." : " and --base-point no."));
        using var series = CheckpointSeries.Open(options.Series.Base, options.Series.BaseStep, options.Series.Checkpoints, options.Series.Selection ?? new MatrixSelection());
        if (options.TargetStep < series.Window[^1].Step)
            throw new UsageException($"--target-step {options.TargetStep} lies before the last checkpoint (step {series.Window[^1].Step}); predict only jumps ahead.");
        var builder = new TrajectoryBuilder(series, extrapolator, basePoint);
        var results = new List<MatrixTrajectory>();
        long total = series.Last.Shards.Sum(s => s.DataLength);
        WithProgress(console, $"predicting step {options.TargetStep}", total, advance =>
            CheckpointWriter.Write(options.Out, series.Last, (tensor, stream) =>
            {
                if (series.CoveredSet.Contains(tensor.Info.Name))
                {
                    var m = builder.Process(tensor.Info.Name);
                    results.Add(m);
                    var fit = m.Fit!;
                    var c = Rank1Jump.Coefficients(fit, extrapolator.Predict(fit, options.TargetStep), options.Form);
                    var weights = Rank1Jump.StartsFromBase(options.Form) ? builder.Base : builder.Last;
                    Rank1Jump.Apply(weights, m.Rows, m.Cols, c, fit.LastV);
                    SafetensorsFile.WriteFloats(stream, weights, tensor.Info.DType);
                }
                else
                {
                    tensor.File.CopyRawTo(tensor.Info, stream);
                }
                advance(tensor.Info.ByteLength);
            }, cancellation));
        var report = Build("predict", options.Series, series, results, basePoint, options.TargetStep, FormName(options.Form));
        Report.Render(console, report);
        console.WriteLine($"Wrote {options.Out}: step {options.TargetStep} predicted from steps {string.Join(", ", report.Steps)} ({FormName(options.Form)} form).");
        if (options.Json is not null) Report.WriteJson(options.Json, report);
        return report;
    }

    public static SeriesReport Analyze(AnalyzeOptions options, IAnsiConsole console, CancellationToken cancellation = default)
    {
        var extrapolator = options.Series.Extrapolator();
        bool basePoint = options.Series.UseBasePoint;
        if ((options.ReconstructOut is null) != (options.ReconstructStep is null))
            throw new UsageException("--reconstruct-out and --reconstruct-step go together.");
        if (options.RankK < 1) throw new UsageException($"--rank must be at least 1; got {options.RankK}.");
        using var series = CheckpointSeries.Open(options.Series.Base, options.Series.BaseStep, options.Series.Checkpoints, options.Series.Selection ?? new MatrixSelection());
        var builder = new TrajectoryBuilder(series, extrapolator, basePoint);
        var results = new List<MatrixTrajectory>();
        WithProgress(console, "analyzing", series.Covered.Count, advance =>
        {
            foreach (string name in series.Covered)
            {
                cancellation.ThrowIfCancellationRequested();
                results.Add(builder.Process(name));
                advance(1);
            }
        });
        var report = Build("analyze", options.Series, series, results, basePoint, null, null);
        Report.Render(console, report);
        if (options.Json is not null) Report.WriteJson(options.Json, report);
        if (options.ReconstructOut is not null)
        {
            Reconstruct(series, options.ReconstructStep!.Value, options.RankK, options.ReconstructOut, console, cancellation);
            console.WriteLine($"Wrote {options.ReconstructOut}: W0 + rank-{options.RankK} dW of step {options.ReconstructStep}, rescaled to ‖dW‖_F; other tensors from that checkpoint.");
        }
        return report;
    }

    /// <summary>The rank-k dominance experiment: W0 + ‖dW‖_F-rescaled rank-k dW of one checkpoint, for every covered matrix.</summary>
    private static void Reconstruct(CheckpointSeries series, long step, int k, string output, IAnsiConsole console, CancellationToken cancellation)
    {
        var source = series.Window.FirstOrDefault(w => w.Step == step).Checkpoint
            ?? throw new UsageException($"--reconstruct-step {step} is not one of the checkpoint steps ({string.Join(", ", series.Window.Select(w => w.Step))}).");
        float[] w0 = [], w = [];
        WithProgress(console, $"rank-{k} reconstruction of step {step}", source.Shards.Sum(s => s.DataLength), advance =>
            CheckpointWriter.Write(output, source, (tensor, stream) =>
            {
                var info = tensor.Info;
                if (series.CoveredSet.Contains(info.Name))
                {
                    int rows = (int)info.Shape[0], cols = (int)info.Shape[1], n = rows * cols;
                    if (w0.Length < n) (w0, w) = (new float[n], new float[n]);
                    series.Base.Tensor(info.Name).ReadFloats(w0);
                    tensor.ReadFloats(w);
                    var dw = w.AsSpan(0, n);
                    System.Numerics.Tensors.TensorPrimitives.Subtract(dw, w0.AsSpan(0, n), dw);
                    TopSingularDeflated.ReplaceWithRescaledRankK(dw, rows, cols, k);
                    System.Numerics.Tensors.TensorPrimitives.Add(dw, w0.AsSpan(0, n), dw);
                    SafetensorsFile.WriteFloats(stream, dw, info.DType);
                }
                else
                {
                    tensor.File.CopyRawTo(info, stream);
                }
                advance(info.ByteLength);
            }, cancellation));
    }

    private static SeriesReport Build(string command, SeriesOptions options, CheckpointSeries series, List<MatrixTrajectory> results,
        bool basePoint, long? target, string? form) =>
        new(command, options.Method, series.BaseStep, series.Window.Select(w => w.Step).ToArray(), target, form,
            Report.Summarize(results, basePoint), results.Select(Report.Of).ToList());

    public static string FormName(JumpForm form) => form switch
    {
        JumpForm.Increment => "increment",
        JumpForm.AddToLast => "add-to-last",
        JumpForm.AddToBase => "add-to-base",
        _ => form.ToString(),
    };

    private static void WithProgress(IAnsiConsole console, string description, long total, Action<Action<long>> work) =>
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: Math.Max(1, total));
                work(n => task.Increment(n));
            });
}
