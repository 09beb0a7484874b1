using AlphaRl.Checkpoints;
using AlphaRl.Linalg;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary><c>analyze</c>: per covered matrix the rank-1 energy share and the out-of-sample error of the line fit, and
/// optionally a rank-k reconstruction. Independent of the command-line parser, so that tests and <c>watch</c> call it directly.</summary>
internal static class Analyze
{
    public static SeriesReport Run(AnalyzeOptions options, IAnsiConsole console, CancellationToken cancellation = default)
    {
        if (AdapterSeries.Holds(options.Series)) return LoraAnalyze.Run(options, console, cancellation);
        var extrapolator = options.Series.Extrapolator();
        bool basePoint = options.Series.UseBasePoint;
        if ((options.ReconstructOut is null) != (options.ReconstructStep is null))
            throw new UsageException("--reconstruct-out and --reconstruct-step go together.");
        if (options.RankK < 1) throw new UsageException($"--rank must be at least 1; got {options.RankK}.");
        if (options.ReconstructOut is not null)
            OutputChecks.Check(options.ReconstructOut, "--reconstruct-out", options.Series.Checkpoints.Select(c => c.Directory).Prepend(options.Series.Base));
        if (options.Json is not null) OutputChecks.Check(options.Json, "--json");
        if (options.Series.Store is not null && options.ReconstructOut is not null)
            throw new UsageException("--reconstruct-out needs the whole update dW of a checkpoint, which a snapshot store does not keep; run it on the series (--base and --checkpoint).");
        using var series = options.Series.Open();
        using var builder = new TrajectoryBuilder(series, extrapolator, basePoint);
        var results = new List<MatrixTrajectory>();
        ConsoleProgress.Run(console, "analyzing", series.Covered.Count, advance =>
        {
            foreach (string name in series.Covered)
            {
                cancellation.ThrowIfCancellationRequested();
                // From a store, analyze reads no weights at all: the snapshots hold everything it reports.
                results.Add(builder.Process(name, readBase: series.Recorded is null, readLast: series.Recorded is null));
                advance(1);
            }
        });
        var report = Report.Build("analyze", options.Series, series, results, basePoint, null, null);
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
        OutputChecks.WarnStale(console, output);
        ConsoleProgress.Run(console, $"rank-{k} reconstruction of step {step}", source.Shards.Sum(s => s.DataLength), advance =>
            CheckpointWriter.Write(output, source, (tensor, stream) =>
            {
                var info = tensor.Info;
                if (series.CoveredSet.Contains(info.Name))
                {
                    int rows = (int)info.Shape[0], cols = (int)info.Shape[1], n = rows * cols;
                    if (w0.Length < n) (w0, w) = (new float[n], new float[n]);
                    Finite.Read(series.Base.Tensor(info.Name), w0, $"of the base (W0, step {series.BaseStep})");
                    Finite.Read(tensor, w, $"at step {step}");
                    var dw = w.AsSpan(0, n);
                    System.Numerics.Tensors.TensorPrimitives.Subtract(dw, w0.AsSpan(0, n), dw);
                    Finite.Ensure(dw, tensor.File.Path, info.Name, $"minus the base's (the update at step {step})");
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
}
