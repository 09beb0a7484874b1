using System.CommandLine;
using AlphaRl.Jumps;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>watch</c> command line; the work is <see cref="Watch"/>.</summary>
internal static class WatchCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var run = new Argument<string>("RUN_DIR")
        {
            Description = "Folder the trainer saves checkpoints into: global_step_N, checkpoint-N, step_N... sub-folders (weights in them, or in actor/huggingface " +
                "as verl saves them), or bare model-N.safetensors files.",
        };
        var baseDir = new Option<string?>("--base") { Description = "W0: a checkpoint folder or a .safetensors file (needed unless the store exists already)." };
        var baseStep = new Option<long?>("--base-step") { Description = "Training step of the base (default 0)." };
        var store = new Option<string>("--store") { Description = "Snapshot store to record into (created when missing).", Required = true };
        var output = new Option<string>("--out")
        {
            Description = "Folder to write to: the kept checkpoint (or the candidates, without --score-command); with --schedule repeated, a folder of one " +
                "from-stepE sub-folder per attempt. Must not exist.",
            Required = true,
        };
        var include = new Option<string[]>("--include") { Description = "Regex of covered matrix names (as for predict)." };
        var exclude = new Option<string[]>("--exclude") { Description = "Regex of matrix names to leave out." };
        var method = new Option<string>("--method")
        {
            Description = "velocity (the hook's default: each weight's least-squares slope over the window) or rank1 (the paper's rank-1 line).",
            DefaultValueFactory = _ => "velocity",
        };
        method.AcceptOnlyFromAmong("velocity", "rank1");
        var lengths = new Option<string?>("--lengths")
        {
            Description = $"Jump lengths j in window lengths L = e − s (s: the base, or the previous attempt with --schedule repeated), as the hook's Jumps.Lengths; " +
                $"default {string.Join(",", JumpDefaults.Lengths.Select(Candidate.FormatLength))}.",
        };
        var multiple = new Option<double?>("--target-multiple") { Description = "One jump to s + multiple × L, the paper's target (AlphaRLOptions.Paper(multiple) in the hook)." };
        var target = new Option<long?>("--target-step") { Description = "One jump to this step." };
        var score = new Option<string?>("--score-command")
        {
            Description = "Score W_e and each candidate with this command (folder appended; last output line: score [NAME=VALUE...] [se=VALUE]); " +
                "the best jump is kept when it scores at least as well as W_e (the hook's guard), else W_e is written.",
        };
        var floors = new Option<string[]>("--floor") { Description = "NAME=VALUE: keep a jump only if the metric NAME printed after the score is at least VALUE (repeatable)." };
        var tolerance = new Option<double>("--tolerance") { Description = "The hook's Guard.Tolerance: a jump may score this much below W_e and be kept (default 0)." };
        var noiseZ = new Option<double>("--noise-z") { Description = "The hook's Guard.NoiseZ: standard errors (se=VALUE) of the difference allowed (default 0)." };
        var timeout = new Option<double>("--score-timeout") { Description = "Seconds each score command may run.", DefaultValueFactory = _ => 3600 };
        var schedule = new Option<string>("--schedule")
        {
            Description = "on-fit (default): one attempt, once the window fits, then exit; repeated: an attempt at the end of every window of --min-snapshots " +
                "checkpoints, fitting or not, then a new window (the hook's JumpSchedule.Repeated).",
            DefaultValueFactory = _ => "on-fit",
        };
        schedule.AcceptOnlyFromAmong("on-fit", "repeated");
        var skip = new Option<int>("--skip-snapshots")
        {
            Description = "Leave the first K checkpoints of every window out of the velocity's slope (the hook's VelocityJumpOptions.SkipSnapshots, e.g. a warm-up).",
        };
        var maxJumps = new Option<int?>("--max-jumps") { Description = "With --schedule repeated: stop once this many jumps were kept." };
        var json = new Option<string?>("--json") { Description = "Where to write the attempt's record (every candidate's score, the one kept); default OUT.json." };
        var min = new Option<int>("--min-snapshots") { Description = "Checkpoints in a window before it is judged (the hook's MinSnapshots).", DefaultValueFactory = _ => JumpDefaults.MinSnapshots };
        var threshold = new Option<double>("--fit-threshold") { Description = "Largest pooled held-out relative error that counts as a fit (the hook's FitThreshold).", DefaultValueFactory = _ => JumpDefaults.FitThreshold };
        var poll = new Option<double>("--poll-seconds") { Description = "Seconds between looks at the folder.", DefaultValueFactory = _ => 5 };
        var settle = new Option<double>("--settle-seconds") { Description = "Seconds a checkpoint's files must be left unchanged before it is read.", DefaultValueFactory = _ => 10 };
        var exitAfter = new Option<double?>("--exit-after") { Description = "Stop watching after this many seconds (exit 0)." };
        var command = new Command("watch", "Follow a folder a trainer writes checkpoints into, as the hook follows a training loop: record each complete new checkpoint, " +
            "and once the window fits write the jump candidates, score them and keep the best by the hook's guard.")
        {
            run, baseDir, baseStep, store, output, include, exclude, method, lengths, multiple, target, score, floors, tolerance, noiseZ, timeout, schedule, skip, maxJumps, json,
            min, threshold, poll, settle, exitAfter,
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
                double timeoutSeconds = r.GetValue(timeout);
                if (!double.IsFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > int.MaxValue / 1000.0)
                    throw new UsageException($"--score-timeout must be a positive number of seconds; got {timeoutSeconds}.");
                int given = (r.GetValue(lengths) is null ? 0 : 1) + (r.GetValue(multiple) is null ? 0 : 1) + (r.GetValue(target) is null ? 0 : 1);
                if (given > 1) throw new UsageException("--lengths, --target-multiple and --target-step are mutually exclusive: give one.");
                IReadOnlyList<double> jumpLengths = r.GetValue(lengths) is { } text ? Candidate.ParseLengths(text)
                    : r.GetValue(multiple) is { } m ? (JumpDefaults.CheckTargetMultiple(m) is { } low ? throw new UsageException($"--target-multiple {low}; got {m}.") : [JumpGeometry.LengthOfMultiple(m)])
                    : JumpDefaults.Lengths;
                var includes = r.GetValue(include) ?? [];
                var excludes = r.GetValue(exclude) ?? [];
                exit = Watch.Run(new WatchOptions(r.GetRequiredValue(run), r.GetValue(baseDir), r.GetRequiredValue(store), r.GetRequiredValue(output))
                {
                    BaseStep = r.GetValue(baseStep),
                    Selection = includes.Length + excludes.Length > 0 ? new MatrixSelection(includes, excludes) : null,
                    MinSnapshots = r.GetValue(min),
                    FitThreshold = r.GetValue(threshold),
                    Method = r.GetValue(method) == "rank1" ? JumpMethod.Rank1 : JumpMethod.Velocity,
                    Lengths = jumpLengths,
                    TargetStep = r.GetValue(target),
                    ScoreCommand = r.GetValue(score),
                    ScoreTimeoutSeconds = timeoutSeconds,
                    Tolerance = r.GetValue(tolerance),
                    NoiseZ = r.GetValue(noiseZ),
                    Floors = PredictCommand.ParseFloors(r.GetValue(floors)),
                    Schedule = r.GetValue(schedule) == "repeated" ? WatchSchedule.Repeated : WatchSchedule.OnFit,
                    MaxJumps = r.GetValue(maxJumps),
                    SkipSnapshots = r.GetValue(skip),
                    Json = r.GetValue(json),
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
