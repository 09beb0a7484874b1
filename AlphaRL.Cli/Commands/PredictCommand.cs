using System.CommandLine;
using AlphaRl.Extrapolation;
using AlphaRl.Jumps;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>The <c>predict</c> command line; the work is <see cref="Predict"/>.</summary>
internal static class PredictCommand
{
    public static Command Create(IAnsiConsole console, TextWriter error, CancellationToken cancellation)
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
        var tolerance = new Option<double>("--tolerance")
        {
            Description = "Keep the best jump when its score is at least W_e's minus this (the hook's Guard.Tolerance; default 0: no worse at all).",
        };
        var noiseZ = new Option<double>("--noise-z")
        {
            Description = "Also allow z standard errors of the difference, from se=VALUE printed after each score (the hook's Guard.NoiseZ; default 0).",
        };
        var mergeInto = new Option<string?>("--merge-into")
        {
            Description = "For a series of LoRA adapter folders: write BASE with the predicted adapter merged in (W + scale·B A per target module) " +
                "instead of the predicted adapter.",
            HelpName = "BASE",
        };
        var timeout = new Option<double>("--score-timeout") { Description = "Seconds each score command may run.", DefaultValueFactory = _ => 3600 };
        var threshold = new Option<double>("--fit-threshold")
        {
            Description = "Largest pooled held-out relative error of the rank-1 line that is written (the hook's FitThreshold); a worse fit exits 1 with nothing written.",
            DefaultValueFactory = _ => JumpDefaults.FitThreshold,
        };
        var force = new Option<bool>("--force")
        {
            Description = "Write the rank-1 prediction even when its fit exceeds --fit-threshold (with a warning). Weights that are not finite, or beyond the dtype's range, are refused all the same.",
        };
        var command = new Command("predict", "Write the checkpoint predicted for a target step (or candidates for several jump lengths) from a base and a window of checkpoints.");
        series.AddTo(command);
        foreach (var option in new Option[] { target, lengths, output, form, allTensors, score, floors, tolerance, noiseZ, timeout, shard, threshold, force, mergeInto }) command.Options.Add(option);
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
        command.SetAction(r => AlphaRLCli.Guarded(error, () => Predict.Run(new PredictOptions(
            series.Read(r), r.GetValue(target), r.GetRequiredValue(output), ParseForm(r.GetValue(form)), r.GetValue(series.Json))
        {
            Method = series.Jump(r),
            MethodChosen = r.GetResult(series.Method) is { Implicit: false },
            MergeInto = r.GetValue(mergeInto),
            Lengths = r.GetValue(lengths) is { } text ? Candidate.ParseLengths(text) : null,
            AllTensors = r.GetValue(allTensors),
            ScoreCommand = r.GetValue(score),
            ScoreTimeoutSeconds = r.GetValue(timeout),
            Floors = ParseFloors(r.GetValue(floors)),
            Tolerance = r.GetValue(tolerance),
            NoiseZ = r.GetValue(noiseZ),
            Shard = r.GetValue(shard) is { } part ? ShardSpec.Parse(part) : null,
            FitThreshold = r.GetValue(threshold),
            Force = r.GetValue(force),
        }, console, cancellation)));
        return command;
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
}
