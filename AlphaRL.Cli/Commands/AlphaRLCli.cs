using System.CommandLine;
using System.Globalization;
using AlphaRl.Extrapolation;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>alpharl</c> command line: <c>predict</c>, <c>analyze</c>, <c>record</c>, <c>watch</c>, <c>merge</c> and <c>clean</c>.</summary>
internal static class AlphaRLCli
{
    public const int Ok = 0, InputError = 1, UsageError = 2, Cancelled = 130;

    /// <summary>Parses and runs a command line; returns the process exit code.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="console">Where tables and progress go (standard output when null).</param>
    /// <param name="error">Where errors go (standard error when null).</param>
    public static int Run(string[] args, IAnsiConsole? console = null, TextWriter? error = null) => Run(args, Build, console, error);

    /// <summary>Parses and runs a command line of the commands <paramref name="build"/> makes (<c>alpharl</c>'s, or the
    /// development tool's), with <c>alpharl</c>'s console, cancellation and exit codes; returns the process exit code.</summary>
    internal static int Run(string[] args, Func<IAnsiConsole, TextWriter, CancellationToken, Command> build, IAnsiConsole? console, TextWriter? error)
    {
        if (console is null)
        {
            console = AnsiConsole.Console;
            // Redirected output has no terminal width; keep long tensor names on one line in logs.
            if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 200);
        }
        error ??= Console.Error;
        // Ctrl+C stops at the next tensor, so that the writer can remove its temporary folder before the process ends.
        using var cancellation = new CancellationTokenSource();
        var root = build(console, error, cancellation.Token);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run '{root.Name} --help' or '{root.Name} COMMAND --help' for usage.");
            return UsageError;
        }
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Error = error, EnableDefaultExceptionHandler = false });
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static Command Build(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        // A plain command named like the tool: RootCommand would take the assembly's name (AlphaRL.Cli) for its usage line.
        var root = new Command("alpharl", "Rank-1 trajectory analysis and extrapolation of RL checkpoints (Hugging Face safetensors).")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(PredictCommand(console, error, cancellation));
        root.Subcommands.Add(AnalyzeCommand(console, error, cancellation));
        root.Subcommands.Add(CleanCommand(console, error));
        root.Subcommands.Add(RecordCommand(console, error, cancellation));
        root.Subcommands.Add(Watch.Command(console, error, cancellation));
        root.Subcommands.Add(MergeCommand(console, error, cancellation));
        return root;
    }

    private sealed class SeriesArguments
    {
        public readonly Option<string> Base = new("--base") { Description = "Folder of the checkpoint before RL (W0). Required unless --store is given." };
        public readonly Option<string?> Store = new("--store")
        {
            Description = "Work from a snapshot store written by 'alpharl record' (instead of --base and --checkpoint): only the base and the last recorded checkpoint are read.",
        };
        public readonly Option<long> BaseStep = new("--base-step") { Description = "Training step of the base checkpoint.", DefaultValueFactory = _ => 0 };
        public readonly Option<string[]> Checkpoints = new("--checkpoint")
        {
            Description = "A window checkpoint as STEP:DIR; repeat for each (any order). Required unless --store is given.",
            Arity = ArgumentArity.OneOrMore,
        };
        public readonly Option<string[]> Include = new("--include") { Description = "Regex of covered matrix names; repeatable; replaces the default q/k/v/o/gate/up/down_proj, c_attn, c_proj, c_fc list." };
        public readonly Option<string[]> Exclude = new("--exclude") { Description = "Regex of matrix names to leave out; repeatable." };
        public readonly Option<string> BasePoint = new("--base-point")
        {
            Description = "Fit the base as the point x = 0 at the base step: auto (only when fewer than 3 checkpoints), yes or no.",
            DefaultValueFactory = _ => "auto",
        };
        public readonly Option<string> Method;
        public readonly Option<string[]> Metrics = new("--metric") { Description = "For metric-pls: STEP:VALUE of the metric at each checkpoint step; repeatable." };
        public readonly Option<double?> TargetMetric = new("--target-metric") { Description = "For metric-pls: the metric value to predict weights for." };
        public readonly Option<string?> Json = new("--json") { Description = "Also write the per-matrix report as JSON to this file." };

        private readonly string[] _methods;

        /// <param name="jumps">For predict: --method also chooses the jump (rank1, velocity, direction), rank1 by default.</param>
        public SeriesArguments(bool jumps = false)
        {
            BasePoint.AcceptOnlyFromAmong("auto", "yes", "no");
            _methods = jumps ? ["rank1", "velocity", "direction", "step-line", "metric-pls"] : ["step-line", "metric-pls"];
            Method = new Option<string>("--method")
            {
                Description = jumps
                    ? "Jump: rank1 (the paper's rank-1 line of x = s1 u1 against the step; default; step-line is the same), " +
                      "metric-pls (rank-1, x against a measured metric, the released scripts'), velocity (W_e + (T − e)·b, b the per-weight " +
                      "least-squares slope over the checkpoints) or direction (W_e + (T − e)/(e − base)·(W_e − W0))."
                    : "Trajectory fit: step-line (x against the step; default) or metric-pls (the released scripts': x against a measured metric).",
                DefaultValueFactory = _ => jumps ? "rank1" : "step-line",
            };
            Method.CompletionSources.Add(_methods);
            Method.Validators.Add(result =>
            {
                string? value = result.GetValueOrDefault<string>();
                if (value is null || !_methods.Contains(value))
                    result.AddError($"--method must be {string.Join(", ", _methods[..^1])} or {_methods[^1]}; got '{value}'.");
            });
        }

        /// <summary>The jump chosen by --method (predict only).</summary>
        public JumpMethod Jump(ParseResult r) => r.GetValue(Method) switch
        {
            "velocity" => JumpMethod.Velocity,
            "direction" => JumpMethod.Direction,
            _ => JumpMethod.Rank1,
        };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { Base, BaseStep, Checkpoints, Store, Include, Exclude, BasePoint, Method, Metrics, TargetMetric, Json })
                command.Options.Add(option);
            command.Validators.Add(result =>
            {
                if (result.GetResult(Store) is not null)
                {
                    foreach (var option in new Option[] { Base, BaseStep, Checkpoints, Include, Exclude })
                        if (result.GetResult(option) is { Implicit: false })
                            result.AddError($"{option.Name} does not go with --store: the store names the base, the checkpoints and the covered matrices.");
                    return;
                }
                if (result.GetResult(Base) is null) result.AddError("Option '--base' is required (or --store).");
                if (result.GetResult(Checkpoints) is null) result.AddError("Option '--checkpoint' is required (or --store).");
            });
        }

        public SeriesOptions Read(ParseResult r) => r.GetValue(Store) is { } store
            ? SeriesOptions.FromStore(OpenStore(store), r.GetValue(BasePoint) ?? "auto", r.GetValue(Method) == "metric-pls" ? "metric-pls" : "step-line",
                ParseMetrics(r.GetValue(Metrics) ?? []), r.GetValue(TargetMetric))
            : new(
            r.GetRequiredValue(Base),
            r.GetRequiredValue(Checkpoints).Select(StepFolder.Parse).ToList(),
            r.GetValue(BaseStep),
            new MatrixSelection(r.GetValue(Include), r.GetValue(Exclude)),
            r.GetValue(BasePoint) ?? "auto",
            r.GetValue(Method) == "metric-pls" ? "metric-pls" : "step-line",
            ParseMetrics(r.GetValue(Metrics) ?? []),
            r.GetValue(TargetMetric));
    }

    private static Command PredictCommand(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var series = new SeriesArguments(jumps: true);
        var target = new Option<long?>("--target-step") { Description = "Step to predict the weights for (or give --lengths)." };
        var lengths = new Option<string?>("--lengths")
        {
            Description = "Comma-separated jump lengths j in window lengths L = e − s (first to last checkpoint), e.g. 0,0.5,1,2: " +
                "one candidate folder per length under --out, for step e + j·L. Exclusive with --target-step.",
        };
        var output = new Option<string>("--out") { Description = "Folder to write the predicted checkpoint (or the candidate folders) to; must not exist.", Required = true };
        var form = new Option<string>("--form")
        {
            Description = "How the predicted rank-1 part becomes weights: increment (W_e + (x̂ − x_e) v_eᵀ; default), " +
                "add-to-last (released script: W_e + x̂ v_eᵀ) or add-to-base (older release: W0 + x̂ v_eᵀ).",
            DefaultValueFactory = _ => "increment",
        };
        form.AcceptOnlyFromAmong("increment", "add-to-last", "add-to-base");
        var allTensors = new Option<bool>("--all-tensors")
        {
            Description = "For velocity and direction: extrapolate every float tensor (embeddings, norms, head), not only the covered matrices.",
        };
        var score = new Option<string?>("--score-command")
        {
            Description = "Score each candidate (and W_e itself) with this command, the candidate folder appended as its last argument and in " +
                "ALPHARL_CANDIDATE; the last line of its output is the score (higher is better). The best is kept as --out, the rest deleted.",
        };
        var shard = new Option<string?>("--shard")
        {
            Description = "i/n: compute only the i-th of n parts of the tensors (split by name) and write them to OUT.part-i-of-n; 'alpharl merge --out OUT' completes the output.",
        };
        var floors = new Option<string[]>("--floor")
        {
            Description = "NAME=VALUE: keep a jump candidate only if the metric NAME, printed by --score-command after the score as NAME=VALUE, is at least VALUE (repeatable).",
        };
        var timeout = new Option<double>("--score-timeout") { Description = "Seconds each score command may run.", DefaultValueFactory = _ => 3600 };
        var command = new Command("predict", "Write the checkpoint predicted for a target step (or candidates for several jump lengths) from a base and a window of checkpoints.");
        series.AddTo(command);
        foreach (var option in new Option[] { target, lengths, output, form, allTensors, score, floors, timeout, shard }) command.Options.Add(option);
        command.Validators.Add(result =>
        {
            bool hasTarget = result.GetResult(target) is not null, hasLengths = result.GetResult(lengths) is not null;
            if (hasTarget && hasLengths) result.AddError("--lengths and --target-step are mutually exclusive: give one.");
            else if (!hasTarget && !hasLengths)
            {
                // An error here stops System.CommandLine from listing the missing required options; name them too.
                foreach (var option in command.Options.Where(o => o.Required && result.GetResult(o) is null))
                    result.AddError($"Option '{option.Name}' is required.");
                result.AddError("Option '--target-step' (or '--lengths') is required.");
            }
        });
        command.SetAction(r => Guarded(error, () => OfflineCommands.Predict(new PredictOptions(
            series.Read(r), r.GetValue(target), r.GetRequiredValue(output), ParseForm(r.GetValue(form)), r.GetValue(series.Json))
        {
            Method = series.Jump(r),
            Lengths = r.GetValue(lengths) is { } text ? Candidate.ParseLengths(text) : null,
            AllTensors = r.GetValue(allTensors),
            ScoreCommand = r.GetValue(score),
            ScoreTimeoutSeconds = r.GetValue(timeout),
            Floors = ParseFloors(r.GetValue(floors)),
            Shard = r.GetValue(shard) is { } part ? ShardSpec.Parse(part) : null,
        }, console, cancellation)));
        return command;
    }

    private static Command AnalyzeCommand(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var series = new SeriesArguments();
        var rank = new Option<int>("--rank") { Description = "k of the rank-k reconstruction.", DefaultValueFactory = _ => 1 };
        var step = new Option<long?>("--reconstruct-step") { Description = "Checkpoint step whose update is reconstructed." };
        var output = new Option<string?>("--reconstruct-out") { Description = "Write W0 + rescaled rank-k dW of --reconstruct-step to this folder (must not exist)." };
        var command = new Command("analyze", "Report per covered matrix the rank-1 energy share and the out-of-sample error of the line fit; optionally write a rank-k reconstruction.");
        series.AddTo(command);
        command.Options.Add(rank);
        command.Options.Add(step);
        command.Options.Add(output);
        command.SetAction(r => Guarded(error, () => OfflineCommands.Analyze(new AnalyzeOptions(
            series.Read(r), r.GetValue(series.Json), r.GetValue(rank), r.GetValue(step), r.GetValue(output)), console, cancellation)));
        return command;
    }

    private static SnapshotStore OpenStore(string directory)
    {
        OutputChecks.Check(directory, "--store");
        return SnapshotStore.Open(directory);
    }

    private static Command RecordCommand(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var checkpoint = new Argument<string>("CHECKPOINT") { Description = "Checkpoint folder to record (model.safetensors or an index and its shards)." };
        var step = new Option<long?>("--step") { Description = "Its training step; by default read from the folder name (global_step_N, checkpoint-N, step_N, step-N)." };
        var store = new Option<string>("--store") { Description = "Folder of the snapshot store (created by the first record).", Required = true };
        var baseDir = new Option<string?>("--base") { Description = "Folder of W0; needed for the first record, then taken from the store." };
        var baseStep = new Option<long?>("--base-step") { Description = "Training step of the base (default 0)." };
        var include = new Option<string[]>("--include") { Description = "Regex of covered matrix names (first record only; later ones must agree)." };
        var exclude = new Option<string[]>("--exclude") { Description = "Regex of matrix names to leave out (first record only)." };
        var command = new Command("record", "Record one checkpoint's rank-1 snapshots (s1, u1, v1, ‖dW‖ per covered matrix) into a snapshot store, " +
            "so that each checkpoint is read once; recording the same checkpoint again does nothing.")
        {
            checkpoint, step, store, baseDir, baseStep, include, exclude,
        };
        command.SetAction(r => Guarded(error, () =>
        {
            string folder = r.GetRequiredValue(checkpoint);
            OutputChecks.Check(folder, "CHECKPOINT");
            long at = r.GetValue(step) ?? SnapshotStore.StepOf(folder)
                ?? throw new UsageException($"The step of {folder} cannot be read from its name; give --step.");
            string storeDir = r.GetRequiredValue(store);
            OutputChecks.Check(storeDir, "--store", [folder]);
            var includes = r.GetValue(include) ?? [];
            var excludes = r.GetValue(exclude) ?? [];
            var selection = includes.Length + excludes.Length > 0 ? new MatrixSelection(includes, excludes) : null;
            var (recorded, outcome) = SnapshotStore.Record(storeDir, folder, at, r.GetValue(baseDir), r.GetValue(baseStep), selection, cancellation);
            console.WriteLine(outcome == SnapshotStore.RecordOutcome.AlreadyRecorded
                ? $"Step {at} is already recorded in {storeDir} from these files; nothing to do."
                : $"Recorded step {at} ({recorded.Manifest.Matrices.Count} covered matrices) from {folder} into {storeDir}; " +
                  $"steps recorded: {string.Join(", ", recorded.Manifest.Steps.Select(s => s.Step))}.");
        }));
        return command;
    }

    private static Command MergeCommand(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
    {
        var output = new Option<string>("--out") { Description = "The output given to every 'predict --shard'; its parts OUT.part-i-of-n are merged into it.", Required = true };
        var command = new Command("merge", "Complete the output of a sharded predict: its parts, the other tensors of the last checkpoint, the index and the config files.") { output };
        command.SetAction(r => Guarded(error, () =>
        {
            string path = r.GetRequiredValue(output);
            OutputChecks.Check(path, "--out");
            int parts = Shards.Merge(path, cancellation);
            console.WriteLine($"Wrote {path} from {parts} parts.");
        }));
        return command;
    }

    private static Command CleanCommand(IAnsiConsole console, TextWriter error)
    {
        var folder = new Argument<string>("FOLDER") { Description = "Folder holding outputs (the parent of --out)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "List the stale temporary folders without removing them." };
        var command = new Command("clean", "Remove the hidden temporary folders (.NAME.alpharl-tmp-*) that runs killed outright left in a folder; folders of runs still running are kept.")
        {
            folder, dryRun,
        };
        command.SetAction(r => Guarded(error, () =>
        {
            string path = OutputChecks.Check(r.GetRequiredValue(folder), "FOLDER");
            if (!Directory.Exists(path)) throw new UsageException($"{r.GetValue(folder)}: folder does not exist.");
            var stale = AlphaRl.Checkpoints.StagingFolder.FindStale(path);
            foreach (var (dir, reason) in stale)
            {
                if (!r.GetValue(dryRun)) Directory.Delete(dir, recursive: true);
                console.WriteLine($"{(r.GetValue(dryRun) ? "stale" : "removed")}: {dir} ({reason})");
            }
            console.WriteLine(stale.Count == 0 ? $"No stale temporary folder in {path}." : $"{stale.Count} stale temporary folder(s) {(r.GetValue(dryRun) ? "found" : "removed")}.");
        }));
        return command;
    }

    /// <summary>Runs a command, turning the errors a user can cause into a message and an exit code.</summary>
    internal static int Guarded(TextWriter error, Action work)
    {
        try
        {
            work();
            return Ok;
        }
        catch (UsageException e)
        {
            error.WriteLine($"error: {e.Message}");
            return UsageError;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("error: cancelled; nothing was written.");
            return Cancelled;
        }
        catch (Exception e) when (e is AlphaRlException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return InputError;
        }
    }

    /// <summary>The floors of <c>--floor NAME=VALUE</c> options, checked: a name, a finite value, each name once.</summary>
    internal static IReadOnlyDictionary<string, double> ParseFloors(string[]? floors)
    {
        var parsed = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string text in floors ?? [])
        {
            if (!CandidateScorer.TryParseMetric(text, out string name, out double floor))
                throw new UsageException($"--floor {text}: expected NAME=VALUE with a finite VALUE, e.g. --floor format_c=0.98.");
            if (!parsed.TryAdd(name, floor))
                throw new UsageException($"--floor {name} is given twice.");
        }
        return parsed;
    }

    private static JumpForm ParseForm(string? form) => form switch
    {
        null or "increment" => JumpForm.Increment,
        "add-to-last" => JumpForm.AddToLast,
        "add-to-base" => JumpForm.AddToBase,
        _ => throw new UsageException($"--form must be increment, add-to-last or add-to-base; got '{form}'."),
    };

    private static Dictionary<long, double> ParseMetrics(string[] items)
    {
        var metrics = new Dictionary<long, double>();
        foreach (string item in items)
        {
            int colon = item.IndexOf(':');
            if (colon <= 0 || !long.TryParse(item.AsSpan(0, colon), out long step) ||
                !double.TryParse(item.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                throw new UsageException($"--metric '{item}' must be STEP:VALUE, e.g. 100:0.42.");
            if (!metrics.TryAdd(step, value))
                throw new UsageException($"--metric gives step {step} twice.");
        }
        return metrics;
    }
}
