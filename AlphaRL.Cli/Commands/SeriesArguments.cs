using System.CommandLine;
using System.Globalization;

namespace AlphaRl.Cli;

/// <summary>The options <c>predict</c> and <c>analyze</c> share: the series (or a snapshot store), the covered matrices and the fit.</summary>
internal sealed class SeriesArguments
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

    private static SnapshotStore OpenStore(string directory)
    {
        OutputChecks.Check(directory, "--store");
        return SnapshotStore.Open(directory);
    }

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
