using System.CommandLine;
using AlphaRl.Jumps;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>watch</c> command line; the work is <see cref="Watch"/>.</summary>
internal static class WatchCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var run = new Argument<string>("RUN_DIR") { Description = "Folder the trainer saves checkpoints into (global_step_N, checkpoint-N, step_N... sub-folders)." };
        var baseDir = new Option<string?>("--base") { Description = "Folder of W0 (needed unless the store exists already)." };
        var baseStep = new Option<long?>("--base-step") { Description = "Training step of the base (default 0)." };
        var store = new Option<string>("--store") { Description = "Snapshot store to record into (created when missing).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder to write the predicted checkpoint to once the window fits; must not exist.", Required = true };
        var include = new Option<string[]>("--include") { Description = "Regex of covered matrix names (as for predict)." };
        var exclude = new Option<string[]>("--exclude") { Description = "Regex of matrix names to leave out." };
        var min = new Option<int>("--min-snapshots") { Description = "Checkpoints recorded before the fit is judged (the hook's MinSnapshots).", DefaultValueFactory = _ => JumpDefaults.MinSnapshots };
        var threshold = new Option<double>("--fit-threshold") { Description = "Largest pooled held-out relative error that counts as a fit (the hook's FitThreshold).", DefaultValueFactory = _ => JumpDefaults.FitThreshold };
        var multiple = new Option<double>("--target-multiple") { Description = "Target step = first + multiple × (last − first), the paper's target (AlphaRLOptions.Paper(multiple) in the hook).", DefaultValueFactory = _ => JumpDefaults.PaperTargetMultiple };
        var target = new Option<long?>("--target-step") { Description = "Predict this step instead of the target multiple." };
        var poll = new Option<double>("--poll-seconds") { Description = "Seconds between looks at the folder.", DefaultValueFactory = _ => 5 };
        var settle = new Option<double>("--settle-seconds") { Description = "Seconds a checkpoint's files must be left unchanged before it is read.", DefaultValueFactory = _ => 10 };
        var exitAfter = new Option<double?>("--exit-after") { Description = "Stop watching after this many seconds (exit 0) if no prediction was written." };
        var command = new Command("watch", "Follow a folder a trainer writes checkpoints into: record each complete new checkpoint, report the fit, and write the predicted checkpoint once the window fits.")
        {
            run, baseDir, baseStep, store, output, include, exclude, min, threshold, multiple, target, poll, settle, exitAfter,
        };
        command.SetAction(r =>
        {
            int exit = AlphaRLCli.Ok;
            int guarded = AlphaRLCli.Guarded(error, () =>
            {
                double seconds = r.GetValue(poll);
                if (!(seconds > 0) || !double.IsFinite(seconds) || seconds > 86400) throw new UsageException($"--poll-seconds must be between 0 and 86400; got {seconds}.");
                double quiet = r.GetValue(settle);
                if (!(quiet >= 0) || !double.IsFinite(quiet) || quiet > 86400) throw new UsageException($"--settle-seconds must be between 0 and 86400; got {quiet}.");
                if (r.GetValue(exitAfter) is { } x && (!(x >= 0) || !double.IsFinite(x) || x > TimeSpan.MaxValue.TotalSeconds / 2))
                    throw new UsageException($"--exit-after must be a number of seconds ≥ 0; got {x}.");
                var includes = r.GetValue(include) ?? [];
                var excludes = r.GetValue(exclude) ?? [];
                exit = Watch.Run(new WatchOptions(r.GetRequiredValue(run), r.GetValue(baseDir), r.GetRequiredValue(store), r.GetRequiredValue(output))
                {
                    BaseStep = r.GetValue(baseStep),
                    Selection = includes.Length + excludes.Length > 0 ? new MatrixSelection(includes, excludes) : null,
                    MinSnapshots = r.GetValue(min),
                    FitThreshold = r.GetValue(threshold),
                    TargetMultiple = r.GetValue(multiple),
                    TargetStep = r.GetValue(target),
                    Poll = TimeSpan.FromSeconds(seconds),
                    Settle = TimeSpan.FromSeconds(quiet),
                    ExitAfter = r.GetValue(exitAfter) is { } after ? TimeSpan.FromSeconds(after) : null,
                }, console, cancellation);
            });
            return guarded != AlphaRLCli.Ok ? guarded : exit;
        });
        return command;
    }
}
