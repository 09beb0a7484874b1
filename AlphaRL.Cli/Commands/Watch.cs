using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using AlphaRl.Checkpoints;
using AlphaRl.Jumps;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>
/// <c>alpharl watch</c>: follows the folder a trainer saves checkpoints into and does offline what the hook does online.
/// Each new checkpoint is recorded into the snapshot store once it is complete (rank-1 snapshots and the velocity's
/// running sums, one read of it); once the window holds <see cref="WatchOptions.MinSnapshots"/> checkpoints and its
/// rank-1 line fits (or at every window's end, with the repeated schedule) the candidates of the jump lengths are
/// written, scored with the user's command when one is given, and the best kept by the hook's rule
/// (<see cref="GuardRule"/>); a JSON record of every candidate's score is written beside it.
/// <para>Checkpoints are sub-folders named <c>global_step_N</c>, <c>checkpoint-N</c>, <c>step_N</c>... holding the weights
/// themselves or in <c>actor/huggingface</c> (verl) or <c>huggingface</c>, or bare files such as <c>model-N.safetensors</c>.
/// A checkpoint is complete when its files (names, sizes, modification times) are unchanged between two polls and it
/// opens as a valid checkpoint: the index and every shard present, every header valid and every file exactly as long as
/// its header says.</para>
/// </summary>
internal static class Watch
{
    private static readonly Regex BareName = new(@"^(?:model|weights|step|checkpoint|ckpt|iter|global_step)[-_]?(\d+)\.safetensors$",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    /// <summary>Where a step folder's weights may be, in the order looked at: the folder itself, then verl's and others' sub-folders.</summary>
    private static readonly string[] WeightFolders = [".", Path.Combine("actor", "huggingface"), "huggingface", "actor"];

    public static int Run(WatchOptions options, IAnsiConsole console, CancellationToken cancellation)
    {
        CheckUsage(options);
        var quiet = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });
        var clock = Stopwatch.StartNew();
        string Time() => $"[{clock.Elapsed.TotalSeconds,6:0.0} s]";
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var waiting = new Dictionary<string, string>(StringComparer.Ordinal);
        SnapshotStore? store = File.Exists(Path.Combine(options.Store, SnapshotStore.ManifestName)) ? SnapshotStore.Open(options.Store) : null;
        if (store is not null && options.Method == JumpMethod.Velocity && store.Manifest.Velocity is null)
            throw new UsageException($"{options.Store} keeps no velocity sums (recorded with --velocity off, or by an older alpharl); give --method rank1, or a new --store.");
        if (store?.Manifest.Velocity is { } sums && sums.Skip != options.SkipSnapshots)
            throw new UsageException($"--skip-snapshots {options.SkipSnapshots} differs from the store's ({sums.Skip}); a store keeps what it was created with.");
        long baseStep = store?.Manifest.BaseStep ?? options.BaseStep ?? 0;
        int keptJumps = 0;
        console.WriteLine($"Watching {options.RunDirectory} (store {options.Store}; {Predict.MethodName(options.Method)} jumps " +
            (options.Schedule == WatchSchedule.Repeated ? $"tried at the end of every window of {options.MinSnapshots} checkpoints)."
                : $"tried once {options.MinSnapshots} checkpoints are recorded and the held-out error is ≤ {options.FitThreshold:0.###})."));
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            long lastRecorded = store?.Manifest.Steps.Count > 0 ? store.Manifest.Steps[^1].Step : baseStep;
            bool recorded = false;
            foreach (var (path, step) in Checkpoints(options.RunDirectory).Where(c => c.Step > lastRecorded).OrderBy(c => c.Step))
            {
                if (!IsComplete(path, options.Settle, seen, waiting, console)) break; // later checkpoints wait for this one: steps are recorded in order
                bool first = store is null;
                (store, _) = SnapshotStore.Record(options.Store, path, step, first ? options.Base : null, first ? options.BaseStep : null,
                    first ? options.Selection : null, cancellation, skip: first ? options.SkipSnapshots : null);
                var window = store.Manifest.WindowSteps;
                console.WriteLine($"{Time()} recorded step {step} from {path} ({window.Count} in the window)");
                recorded = true;
                if (window.Count < options.MinSnapshots) continue;

                var report = Analyze.Run(new AnalyzeOptions(SeriesOptions.FromStore(store)), quiet, cancellation);
                double? error = report.Summary?.PooledHoldOutRelativeError;
                bool fits = error is { } e && e <= options.FitThreshold;
                console.WriteLine($"{Time()} fit on steps {string.Join(", ", report.Steps)}: pooled held-out relative error {F(error)}, worst {F(report.Summary?.WorstHoldOutRelativeError)} " +
                    (fits ? $"≤ {options.FitThreshold:0.###}: the window fits." : $"> {options.FitThreshold:0.###}" +
                        (options.Schedule == WatchSchedule.Repeated ? ": trying the window anyway (repeated schedule)." : ": waiting for more checkpoints.")));
                if (!fits && options.Schedule == WatchSchedule.OnFit) continue;

                bool kept = Attempt(options, store, step, console, quiet, Time, cancellation);
                if (options.Schedule == WatchSchedule.OnFit) return AlphaRLCli.Ok;
                if (kept) keptJumps++;
                if (options.SkipSnapshots < 0 || options.SkipSnapshots > options.MinSnapshots - 2)
            throw new UsageException($"--skip-snapshots must be between 0 and --min-snapshots − 2 ({options.MinSnapshots - 2}), so that two checkpoints remain for the slope; got {options.SkipSnapshots}.");
        if (options.MaxJumps is { } max && keptJumps >= max)
                {
                    console.WriteLine($"{Time()} {keptJumps} jump(s) kept (--max-jumps {max}); stopped watching.");
                    return AlphaRLCli.Ok;
                }
                store = SnapshotStore.NewWindow(options.Store, step);
                console.WriteLine($"{Time()} a new window begins at step {step}.");
            }
            if (recorded) continue; // look again at once: more may be complete
            if (options.ExitAfter is { } limit && clock.Elapsed >= limit)
            {
                console.WriteLine($"Stopped after {clock.Elapsed.TotalSeconds:0} s (--exit-after) with {store?.Manifest.Steps.Count ?? 0} checkpoint(s) recorded" +
                    (options.Schedule == WatchSchedule.OnFit ? " and no prediction written." : $" and {keptJumps} jump(s) kept."));
                return AlphaRLCli.Ok;
            }
            cancellation.WaitHandle.WaitOne(options.Poll);
        }
    }

    /// <summary>One jump attempt from the store's window: writes (and scores) the candidates through <see cref="Predict"/>;
    /// returns whether a jump was kept.</summary>
    private static bool Attempt(WatchOptions options, SnapshotStore store, long last, IAnsiConsole console, IAnsiConsole quiet, Func<string> time,
        CancellationToken cancellation)
    {
        bool repeated = options.Schedule == WatchSchedule.Repeated;
        string output = repeated ? Path.Combine(options.Out, $"from-step{last}") : options.Out;
        string json = repeated ? output + ".json" : options.Json ?? options.Out + ".json";
        if (repeated) Directory.CreateDirectory(options.Out);
        // One length and nothing to score it against: the prediction itself, written as --out (not a candidate folder).
        long? targetStep = options.TargetStep
            ?? (options.ScoreCommand is null && options.Lengths is [var only] ? JumpGeometry.Target(last, store.Manifest.Origin, only) : null);
        var report = Predict.Run(new PredictOptions(SeriesOptions.FromStore(store), targetStep, output, Json: json)
        {
            Method = options.Method,
            Lengths = targetStep is null ? options.Lengths : null,
            ScoreCommand = options.ScoreCommand,
            ScoreTimeoutSeconds = options.ScoreTimeoutSeconds,
            Tolerance = options.Tolerance,
            NoiseZ = options.NoiseZ,
            Floors = options.Floors,
            WindowStart = store.Manifest.Origin,
            FitThreshold = options.FitThreshold,
            // On fit, the attempt comes only once the same pooled error passed the same threshold, so the gate agrees;
            // the repeated schedule attempts whatever the fit, as the hook's Repeated, and lets the guard decide.
            Force = repeated,
        }, quiet, cancellation);
        string from = $"from steps {string.Join(", ", report.Steps)} (window from step {store.Manifest.Origin}, L = {report.WindowLength})";
        var candidates = report.Candidates;
        if (candidates is null)
        {
            console.WriteLine($"{time()} wrote {output}: step {targetStep} predicted {from} ({Predict.MethodName(options.Method)}). Record: {json}.");
            return false;
        }
        foreach (var c in candidates)
            console.WriteLine($"{time()}   j = {(c.Length is { } j ? Candidate.FormatLength(j) : "—"),-5} step {c.TargetStep,-8} " +
                (c.Score is { } s ? $"score {s.ToString("G6", CultureInfo.InvariantCulture)}" : "not scored") + (c.Kept ? "  ← kept" : ""));
        if (options.ScoreCommand is null)
        {
            console.WriteLine($"{time()} wrote {candidates.Count} candidates under {output} {from}; nothing was chosen (give --score-command to keep the best). Record: {json}.");
            return false;
        }
        var chosen = candidates.Single(c => c.Kept);
        console.WriteLine(chosen.NoJump
            ? $"{time()} no jump scored at least as well as W_e (step {last}); wrote W_e to {output}. Record: {json}."
            : $"{time()} kept j = {Candidate.FormatLength(chosen.Length ?? double.NaN)} (step {chosen.TargetStep}) {from} as {output}. Record: {json}.");
        return !chosen.NoJump;
    }

    private static void CheckUsage(WatchOptions options)
    {
        if (!Directory.Exists(options.RunDirectory)) throw new UsageException($"{options.RunDirectory}: folder does not exist.");
        if (JumpDefaults.CheckMinSnapshots(options.MinSnapshots) is { } few) throw new UsageException($"--min-snapshots {few}; got {options.MinSnapshots}.");
        if (JumpDefaults.CheckFitThreshold(options.FitThreshold) is { } bad) throw new UsageException($"--fit-threshold {bad}; got {options.FitThreshold}.");
        if (options.Method == JumpMethod.Direction) throw new UsageException("watch jumps with --method velocity (the hook's default) or rank1.");
        if (options.Lengths.Count == 0 || options.Lengths.Any(j => JumpDefaults.CheckLength(j) is not null))
            throw new UsageException("--lengths needs finite lengths ≥ 0, e.g. --lengths 0,0.5,1,2.");
        if (options.MaxJumps is { } max && (max < 1 || options.Schedule != WatchSchedule.Repeated))
            throw new UsageException($"--max-jumps must be 1 or more and goes with --schedule repeated; got {max}.");
        if (options.Floors.Count > 0 && options.ScoreCommand is null)
            throw new UsageException("--floor needs --score-command: the floors apply to the metrics it prints after the score.");
        if (GuardRule.CheckTolerance(options.Tolerance) is { } tolerance) throw new UsageException($"--tolerance {tolerance}; got {options.Tolerance}.");
        if (GuardRule.CheckNoiseZ(options.NoiseZ) is { } z) throw new UsageException($"--noise-z {z}; got {options.NoiseZ}.");
        OutputChecks.Check(options.Out, "--out", options.Base is null ? [options.RunDirectory] : [options.RunDirectory, options.Base]);
        OutputChecks.Check(options.Store, "--store");
        if (Directory.Exists(options.Out)) throw new UsageException($"{options.Out}: output folder already exists; choose a new folder.");
        if (options.Json is { } json) OutputChecks.Check(json, "--json");
    }

    /// <summary>The checkpoints in a run folder with their steps: step sub-folders (their weights in the folder itself or
    /// in a known sub-folder) and bare weights files.</summary>
    internal static IEnumerable<(string Path, long Step)> Checkpoints(string run)
    {
        foreach (string folder in Directory.EnumerateDirectories(run))
            if (SnapshotStore.StepOf(folder) is { } step)
                yield return (WeightsOf(folder), step);
        foreach (string file in Directory.EnumerateFiles(run, "*.safetensors"))
            if (BareName.Match(Path.GetFileName(file)) is { Success: true } m && long.TryParse(m.Groups[1].Value, CultureInfo.InvariantCulture, out long step))
                yield return (file, step);
    }

    /// <summary>The folder holding a step folder's weights: the first of <see cref="WeightFolders"/> with a weights file
    /// or index, or the step folder itself while none has (so that it is reported as incomplete).</summary>
    private static string WeightsOf(string folder)
    {
        foreach (string sub in WeightFolders)
        {
            string candidate = sub == "." ? folder : Path.Combine(folder, sub);
            if (File.Exists(Path.Combine(candidate, Checkpoint.SingleFileName)) || File.Exists(Path.Combine(candidate, Checkpoint.IndexFileName)))
                return candidate;
        }
        return folder;
    }

    /// <summary>Whether a checkpoint (folder or bare file) is complete: its files unchanged since the previous poll and
    /// for at least <paramref name="settle"/>, and valid as a checkpoint.</summary>
    private static bool IsComplete(string path, TimeSpan settle, Dictionary<string, string> seen, Dictionary<string, string> waiting, IAnsiConsole console)
    {
        var files = (File.Exists(path) ? [path] : Directory.EnumerateFiles(path)).Order(StringComparer.Ordinal).Select(f => new FileInfo(f)).ToList();
        string signature = string.Join("\n", files.Select(f => $"{f.Name} {f.Length} {f.LastWriteTimeUtc.Ticks}"));
        bool stable = seen.TryGetValue(path, out string? before) && before == signature;
        seen[path] = signature;
        var newest = files.Count > 0 ? files.Max(f => f.LastWriteTimeUtc) : Directory.GetLastWriteTimeUtc(path);
        if (!stable || DateTime.UtcNow - newest < settle) return false;
        try
        {
            using var checkpoint = Checkpoint.Open(path);
            return true;
        }
        catch (Exception e) when (e is CheckpointFormatException or IOException)
        {
            // Still being written (or broken): say so once, and keep waiting.
            if (waiting.TryAdd(path, e.Message))
                console.WriteLine($"waiting for {path}: {e.Message}");
            return false;
        }
    }

    private static string F(double? x) => x is { } v ? v.ToString("0.0000", CultureInfo.InvariantCulture) : "—";
}
