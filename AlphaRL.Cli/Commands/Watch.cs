using AlphaRl.Jumps;
using System.Diagnostics;
using System.Globalization;
using AlphaRl.Checkpoints;
using AlphaRl.Extrapolation;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>
/// <c>alpharl watch</c>: follows the folder a trainer saves checkpoints into (sub-folders named <c>global_step_N</c>,
/// <c>checkpoint-N</c>, <c>step_N</c>...), records each new checkpoint into the snapshot store once it is complete, reports
/// the fit, and writes the predicted checkpoint once the window fits. A checkpoint is complete when its files (names,
/// sizes, modification times) are unchanged between two polls and it opens as a valid checkpoint: the index and every
/// shard present, every header valid and every file exactly as long as its header says.
/// </summary>
internal static class Watch
{
    public static int Run(WatchOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        if (!Directory.Exists(options.RunDirectory)) throw new UsageException($"{options.RunDirectory}: folder does not exist.");
        if (JumpDefaults.CheckMinSnapshots(options.MinSnapshots) is { } few) throw new UsageException($"--min-snapshots {few}; got {options.MinSnapshots}.");
        if (JumpDefaults.CheckFitThreshold(options.FitThreshold) is { } bad) throw new UsageException($"--fit-threshold {bad}; got {options.FitThreshold}.");
        if (JumpDefaults.CheckTargetMultiple(options.TargetMultiple) is { } low) throw new UsageException($"--target-multiple {low}; got {options.TargetMultiple}.");
        OutputChecks.Check(options.Out, "--out", options.Base is null ? [options.RunDirectory] : [options.RunDirectory, options.Base]);
        OutputChecks.Check(options.Store, "--store");
        if (Directory.Exists(options.Out)) throw new UsageException($"{options.Out}: output folder already exists; choose a new folder.");
        var quiet = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        var clock = Stopwatch.StartNew();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var waiting = new Dictionary<string, string>(StringComparer.Ordinal);
        SnapshotStore? store = File.Exists(Path.Combine(options.Store, SnapshotStore.ManifestName)) ? SnapshotStore.Open(options.Store) : null;
        console.WriteLine($"Watching {options.RunDirectory} (store {options.Store}; fit when {options.MinSnapshots} checkpoints are recorded and the held-out error is ≤ {options.FitThreshold:0.###}).");
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            long lastRecorded = store?.Manifest.Steps.Count > 0 ? store.Manifest.Steps[^1].Step : long.MinValue;
            var candidates = Directory.EnumerateDirectories(options.RunDirectory)
                .Select(d => (Folder: d, Step: SnapshotStore.StepOf(d)))
                .Where(c => c.Step > lastRecorded).OrderBy(c => c.Step).ToList();
            bool recorded = false;
            foreach (var (folder, step) in candidates)
            {
                if (!IsComplete(folder, options.Settle, seen, waiting, console)) break; // later checkpoints wait for this one: steps are recorded in order
                var (updated, _) = SnapshotStore.Record(options.Store, folder, step!.Value, store is null ? options.Base : null, store is null ? options.BaseStep : null,
                    store is null ? options.Selection : null, cancellation);
                store = updated;
                console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] recorded step {step} from {folder} ({store.Manifest.Steps.Count} recorded)");
                recorded = true;
                if (store.Manifest.Steps.Count < options.MinSnapshots) continue;
                var report = Analyze.Run(new AnalyzeOptions(SeriesOptions.FromStore(store)), quiet, cancellation);
                double? error = report.Summary?.PooledHoldOutRelativeError;
                bool fits = error is { } e && e <= options.FitThreshold;
                console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] fit on steps {string.Join(", ", report.Steps)}: pooled held-out relative error " +
                    $"{(error is null ? "—" : error.Value.ToString("0.0000", CultureInfo.InvariantCulture))}, worst {(report.Summary?.WorstHoldOutRelativeError is { } w ? w.ToString("0.0000", CultureInfo.InvariantCulture) : "—")} " +
                    (fits ? $"≤ {options.FitThreshold:0.###}: the window fits." : $"> {options.FitThreshold:0.###}: waiting for more checkpoints."));
                if (!fits) continue;
                long first = report.Steps[0], last = report.Steps[^1];
                long target = options.TargetStep ?? JumpGeometry.Target(last, first, JumpGeometry.LengthOfMultiple(options.TargetMultiple));
                if (target <= last) target = last + 1;
                Predict.Run(new PredictOptions(SeriesOptions.FromStore(store), target, options.Out), quiet, cancellation);
                console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0} s] wrote {options.Out}: step {target} predicted from steps {string.Join(", ", report.Steps)} " +
                    $"(rank-1 jump, increment form; target = first + {options.TargetMultiple:0.##} × window).");
                return AlphaRLCli.Ok;
            }
            if (recorded) continue; // look again at once: more may be complete
            if (options.ExitAfter is { } limit && clock.Elapsed >= limit)
            {
                console.WriteLine($"Stopped after {clock.Elapsed.TotalSeconds:0} s (--exit-after) with {store?.Manifest.Steps.Count ?? 0} checkpoint(s) recorded and no prediction written.");
                return AlphaRLCli.Ok;
            }
            cancellation.WaitHandle.WaitOne(options.Poll);
        }
    }

    /// <summary>Whether a checkpoint folder is complete: its files unchanged since the previous poll and for at least
    /// <paramref name="settle"/>, and valid as a checkpoint.</summary>
    private static bool IsComplete(string folder, TimeSpan settle, Dictionary<string, string> seen, Dictionary<string, string> waiting, IAnsiConsole console)
    {
        var files = Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal).Select(f => new FileInfo(f)).ToList();
        string signature = string.Join("\n", files.Select(f => $"{f.Name} {f.Length} {f.LastWriteTimeUtc.Ticks}"));
        bool stable = seen.TryGetValue(folder, out string? before) && before == signature;
        seen[folder] = signature;
        var newest = files.Count > 0 ? files.Max(f => f.LastWriteTimeUtc) : Directory.GetLastWriteTimeUtc(folder);
        if (!stable || DateTime.UtcNow - newest < settle) return false;
        try
        {
            using var checkpoint = Checkpoint.Open(folder);
            return true;
        }
        catch (Exception e) when (e is CheckpointFormatException or IOException)
        {
            // Still being written (or broken): say so once, and keep waiting.
            if (waiting.TryAdd(folder, e.Message))
                console.WriteLine($"waiting for {folder}: {e.Message}");
            return false;
        }
    }
}
