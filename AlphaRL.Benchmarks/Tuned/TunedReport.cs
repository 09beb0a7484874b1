using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using AlphaRl.Benchmarks.Speedup;
using AlphaRl.Workloads.Evaluation;
using ScottPlot;

namespace AlphaRl.Benchmarks.Tuned;

/// <summary>One rate of a sweep, on one set of seeds.</summary>
internal sealed record RateRow(double Multiple, double LearningRate, int Seeds, double FinalQuality, double FinalQualitySd, double FinalTask, double FinalRetained,
    double PeakQuality, int? StepsToTarget, int CollapsedSeeds, int DeclinedSeeds, int ForgotSeeds, int StillImprovingSeeds);

/// <summary>AlphaRL stacked on one rate, against that rate alone, on the held-out seeds (means over seeds).</summary>
internal sealed record StackedRow(double Multiple, string Method, double Window, double FinalQuality, double AloneFinalQuality,
    double? StepsToTunedFinal, double? AloneStepsToTunedFinal, int ReachedSeeds, double WorstShortfall, double Evaluations, int KeptJumps,
    double RolloutsPerRun, double EvaluationForwardPasses, double WallSeconds, double AloneWallSeconds,
    double? ForgettingPerGainJump, double? ForgettingPerGainTraining);

/// <summary>One AlphaRL setting tried on the development seeds at their tuned rate.</summary>
internal sealed record ChoiceRow(string Method, double Window, double MeanSteps, int ReachedSeeds, double Evaluations, double FinalQuality,
    double? MeanJumpLength, double? ForgettingPerGainJump, double? ForgettingPerGainTraining);

/// <summary>The paper's properties at the tuned rate, per held-out seed.</summary>
internal sealed record PropertyRow(int Seed, double UpdateToBase, double EnergyShare, double Rank1Recovery, double TrajectoryFitError,
    double? VelocityCosine, double? StepNormTrend);

/// <summary>Everything the report says of one regime and algorithm.</summary>
internal sealed record TunedSummary(string Regime, string Algorithm, int TotalSteps, double BaseRate,
    [property: JsonPropertyName("tuned_lr_multiple")] double? TunedLrMultiple,
    double? DevelopmentTarget,
    [property: JsonPropertyName("tuned_steps_to_100")] double? TunedStepsTo100,
    [property: JsonPropertyName("tuned_steps_to_96")] double? TunedStepsTo96,
    double? HeldOutTunedFinalQuality,
    string? ChosenMethod, double? ChosenWindow,
    [property: JsonPropertyName("speedup_over_tuned_to_100")] double? SpeedupOverTunedTo100,
    [property: JsonPropertyName("speedup_over_tuned_to_96")] double? SpeedupOverTunedTo96,
    [property: JsonPropertyName("wallclock_speedup_over_tuned_to_100")] double? WallclockSpeedupOverTunedTo100,
    int SeedsReached100, int SeedsReached96,
    [property: JsonPropertyName("self_tuning_speedup_to_100")] double? SelfTuningSpeedupTo100,
    double? SweepStepsToTarget, double? AlphaRlBaseStepsToTarget,
    double? EarlyStopLrMultiple, double? EarlyStopStepsTo100,
    [property: JsonPropertyName("speedup_over_early_stop_to_100")] double? SpeedupOverEarlyStopTo100,
    IReadOnlyList<RateRow> DevelopmentSweep, IReadOnlyList<RateRow> HeldOutSweep, IReadOnlyList<StackedRow> Stacked,
    IReadOnlyList<ChoiceRow> Choices, IReadOnlyList<PropertyRow> PropertiesAtTuned);

/// <summary>Turns the cached runs into the summary JSON, the markdown report and the plots.</summary>
internal static class TunedReport
{
    public static List<string> Write(TunedPlan plan, TunedHarness harness, string directory, string command)
    {
        Directory.CreateDirectory(directory);
        var summaries = new List<TunedSummary>();
        foreach (var regime in plan.Regimes)
            foreach (string algorithm in plan.Algorithms)
                if (Summarise(plan, harness, regime, algorithm) is { } s) summaries.Add(s);
        var written = new List<string>();
        void Save(string name, string text)
        {
            string path = Path.Combine(directory, name);
            SpeedupReport.WriteAtomically(path, text);
            written.Add(path);
        }
        Save("tuned-summary.json", JsonSerializer.Serialize(new { command, date = DateTimeOffset.UtcNow, mode = plan.Quick ? "quick" : "full", summaries }, SpeedupReport.Json));
        Save("tuned.md", Markdown(plan, summaries, command));
        foreach (var s in summaries)
        {
            string path = Path.Combine(directory, $"tuned-{s.Regime}-{s.Algorithm}.png");
            if (Plot(plan, harness, plan.Regimes.Single(r => r.Name == s.Regime), s, path)) written.Add(path);
        }
        return written;
    }

    /// <summary>Adds the tuned-baseline fields to <c>speedup-summary.json</c> (its other fields are kept).</summary>
    public static string? PatchSpeedupSummary(string summaryPath, string tunedDirectory)
    {
        string tuned = Path.Combine(tunedDirectory, "tuned-summary.json");
        if (!File.Exists(summaryPath) || !File.Exists(tuned)) return null;
        var root = JsonNode.Parse(File.ReadAllText(summaryPath))!;
        var source = JsonNode.Parse(File.ReadAllText(tuned))!;
        var rows = new JsonArray();
        foreach (var s in source["summaries"]!.AsArray())
        {
            var row = new JsonObject
            {
                ["regime"] = s!["regime"]!.GetValue<string>(), ["algorithm"] = s["algorithm"]!.GetValue<string>(),
                ["tuned_lr_multiple"] = s["tuned_lr_multiple"]?.DeepClone(), ["tuned_steps_to_100"] = s["tuned_steps_to_100"]?.DeepClone(),
                ["self_tuning_speedup_to_100"] = s["self_tuning_speedup_to_100"]?.DeepClone(),
            };
            string method = s["chosen_method"]?.GetValue<string>() ?? "alpharl";
            row[$"{method}_on_tuned"] = new JsonObject
            {
                ["window_share"] = s["chosen_window"]?.DeepClone(),
                ["speedup_over_tuned_to_100"] = s["speedup_over_tuned_to_100"]?.DeepClone(),
                ["speedup_over_tuned_to_96"] = s["speedup_over_tuned_to_96"]?.DeepClone(),
                ["wallclock_speedup_over_tuned_to_100"] = s["wallclock_speedup_over_tuned_to_100"]?.DeepClone(),
                ["speedup_over_early_stop_to_100"] = s["speedup_over_early_stop_to_100"]?.DeepClone(),
            };
            row["rates"] = new JsonArray(s["held_out_sweep"]!.AsArray().Select(r => (JsonNode)new JsonObject
            {
                ["lr_multiple"] = r!["multiple"]!.DeepClone(), ["final_quality"] = r["final_quality"]!.DeepClone(),
                ["steps_to_target"] = r["steps_to_target"]?.DeepClone(), ["collapsed_seeds"] = r["collapsed_seeds"]!.DeepClone(),
            }).ToArray());
            rows.Add(row);
        }
        root["tuned"] = rows;
        SpeedupReport.WriteAtomically(summaryPath, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return summaryPath;
    }

    private static TunedSummary? Summarise(TunedPlan plan, TunedHarness harness, TunedRegime regime, string algorithm)
    {
        var dev = plan.Rates(harness, regime, algorithm, plan.DevelopmentSeeds(regime));
        if (dev.Count == 0) return null;
        var held = plan.Rates(harness, regime, algorithm, plan.HeldOutSeeds(regime));
        var tunedDev = dev.Count == regime.Multiples.Length ? Sweep.Tune(dev) : null;
        double? tuned = tunedDev?.Tuned.Multiple;
        var devRows = RateRows(plan, harness, regime, algorithm, dev, plan.DevelopmentSeeds(regime), tunedDev?.Target);
        var choices = new List<ChoiceRow>();
        (string Method, double Window)? choice = null;
        if (tuned is { } t)
        {
            foreach (var trial in plan.Trials(harness, regime, algorithm, t))
            {
                var pairs = trial.Seeds;
                choices.Add(new ChoiceRow(trial.Method, trial.Window, trial.MeanSteps, trial.Reach.Count(r => r is not null),
                    trial.Evaluations, pairs.Average(p => p.Stacked.Points[^1].Quality),
                    MeanOrNull(pairs.Select(p => p.Stacked.Jumps.FirstOrDefault(j => j.Kept)?.Length)),
                    MeanOrNull(pairs.Select(p => ForgettingPerGain(p.Stacked, p.Alone)?.Jump)), MeanOrNull(pairs.Select(p => ForgettingPerGain(p.Stacked, p.Alone)?.Training))));
            }
            choice = plan.Choice(harness);
        }
        double? heldTarget = tuned is { } tm && held.FirstOrDefault(r => r.Multiple == tm) is { } ht ? ht.Mean.Final : null;
        var heldRows = RateRows(plan, harness, regime, algorithm, held, plan.HeldOutSeeds(regime), heldTarget);

        // The headline, per held-out seed: steps to that seed's tuned-run final quality (and 96% of its gain).
        double? tunedTo100 = null, tunedTo96 = null, speedup100 = null, speedup96 = null, selfTuning = null, sweepSteps = null, alphaBase = null;
        // Stopping early at a larger rate: the rate (stable or not) whose development mean curve reaches the development
        // target first, stopped there; on the held-out seeds, its steps to each seed's tuned final quality.
        double? earlyMultiple = tunedDev is { } td
            ? dev.Select(r => (r.Multiple, Steps: r.Mean.FirstReach(td.Target))).Where(x => x.Steps is not null).OrderBy(x => x.Steps).ThenBy(x => x.Multiple).Select(x => (double?)x.Multiple).FirstOrDefault()
            : null;
        double? earlyTo100 = null, speedupEarly = null, wallSpeedup100 = null;
        int reached100 = 0, reached96 = 0;
        var stacked = new List<StackedRow>();
        var properties = new List<PropertyRow>();
        if (tuned is { } tr && choice is { } c)
        {
            var seeds = plan.HeldOutSeeds(regime).Select(s => (Seed: s, Alone: harness.Cached(Train(regime, algorithm, s, tr)), Stacked: harness.Cached(new RunSpec(regime.Name, algorithm, s, tr, c.Method, c.Window)),
                Base: harness.Cached(new RunSpec(regime.Name, algorithm, s, 1, c.Method, c.Window)))).Where(x => x.Alone is not null).ToList();
            if (seeds.Count > 0)
            {
                double Target(RunRecord alone, double share) { var q = alone.Quality(); return q.Initial + share * (q.Final - q.Initial); }
                var t100 = seeds.Select(x => x.Alone!.Quality().FirstReach(Target(x.Alone!, 1))!.Value).ToList();
                var t96 = seeds.Select(x => x.Alone!.Quality().FirstReach(Target(x.Alone!, 0.96))!.Value).ToList();
                tunedTo100 = t100.Average();
                tunedTo96 = t96.Average();
                if (earlyMultiple is { } em && seeds.Select(x => harness.Cached(Train(regime, algorithm, x.Seed, em))).ToList() is var early && early.All(r => r is not null))
                {
                    var reach = early.Select((r, i) => r!.Quality().FirstReach(Target(seeds[i].Alone!, 1))).ToList();
                    if (reach.All(r => r is not null))
                    {
                        earlyTo100 = reach.Average(r => r!.Value);
                        if (seeds.All(x => x.Stacked is not null) && seeds.Select(x => x.Stacked!.Quality().FirstReach(Target(x.Alone!, 1))).ToList() is var alpha && alpha.All(a => a is not null))
                            speedupEarly = reach.Select((r, i) => (double)r!.Value / alpha[i]!.Value).Average();
                    }
                }
                var withStack = seeds.Where(x => x.Stacked is not null).ToList();
                if (withStack.Count == seeds.Count)
                {
                    var s100 = withStack.Select((x, i) => x.Stacked!.Quality().FirstReach(Target(x.Alone!, 1)) is { } n ? (double?)t100[i] / n : null).ToList();
                    var s96 = withStack.Select((x, i) => x.Stacked!.Quality().FirstReach(Target(x.Alone!, 0.96)) is { } n ? (double?)t96[i] / n : null).ToList();
                    reached100 = s100.Count(v => v is not null);
                    reached96 = s96.Count(v => v is not null);
                    speedup100 = reached100 == seeds.Count ? s100.Average() : null;
                    // Wall-clock: RL steps, AlphaRL's overhead and the guard's evaluations until each run first reached the target.
                    static double? WallAt(RunRecord r, double target) => r.Points.FirstOrDefault(p => p.Quality >= target - Curve.Epsilon)?.WallSeconds;
                    var walls = withStack.Select(x => (Alone: WallAt(x.Alone!, Target(x.Alone!, 1)), Stacked: WallAt(x.Stacked!, Target(x.Alone!, 1)))).ToList();
                    wallSpeedup100 = walls.All(w => w.Alone is > 0 && w.Stacked is > 0) ? walls.Average(w => w.Alone!.Value / w.Stacked!.Value) : null;
                    speedup96 = reached96 == seeds.Count ? s96.Average() : null;
                }
                if (seeds.All(x => x.Base is not null))
                {
                    var cost = seeds.Select((x, i) => (double)Sweep.CostOfTuning(regime.Multiples.Length, regime.TotalSteps, t100[i])).ToList();
                    var baseReach = seeds.Select(x => x.Base!.Quality().FirstReach(Target(x.Alone!, 1))).ToList();
                    sweepSteps = cost.Average();
                    if (baseReach.All(r => r is not null))
                    {
                        alphaBase = baseReach.Average(r => r!.Value);
                        selfTuning = cost.Select((v, i) => v / baseReach[i]!.Value).Average();
                    }
                }
                foreach (var x in seeds)
                    if (x.Alone!.Properties is { } p)
                    {
                        var jump = x.Stacked?.Jumps.FirstOrDefault();
                        properties.Add(new PropertyRow(x.Seed, p.UpdateToBase, p.EnergyShare, p.Rank1Recovery, p.TrajectoryFitError, jump?.VelocityCosine, jump?.StepNormTrend));
                    }
            }
            foreach (double m in regime.Multiples)
            {
                var pairs = plan.HeldOutSeeds(regime).Select(s => (Alone: harness.Cached(Train(regime, algorithm, s, m)), Tuned: harness.Cached(Train(regime, algorithm, s, tr)),
                    Stacked: harness.Cached(new RunSpec(regime.Name, algorithm, s, m, c.Method, c.Window)))).ToList();
                if (pairs.Any(p => p.Alone is null || p.Stacked is null || p.Tuned is null)) continue;
                var stackedReach = pairs.Select(p => p.Stacked!.Quality().FirstReach(p.Tuned!.Quality().Final)).ToList();
                var aloneReach = pairs.Select(p => p.Alone!.Quality().FirstReach(p.Tuned!.Quality().Final)).ToList();
                stacked.Add(new StackedRow(m, c.Method, c.Window, pairs.Average(p => p.Stacked!.Points[^1].Quality), pairs.Average(p => p.Alone!.Points[^1].Quality),
                    stackedReach.All(r => r is not null) ? stackedReach.Average(r => r!.Value) : null,
                    aloneReach.All(r => r is not null) ? aloneReach.Average(r => r!.Value) : null,
                    stackedReach.Count(r => r is not null),
                    pairs.Max(p => Sweep.WorstShortfall(p.Stacked!.Quality(), p.Alone!.Quality())),
                    pairs.Average(p => p.Stacked!.Evaluations), pairs.Sum(p => p.Stacked!.Jumps.Count(j => j.Kept)),
                    pairs.Average(p => (double)p.Stacked!.RolloutsPerStep * p.Stacked.Points[^1].Trained),
                    pairs.Average(p => (double)p.Stacked!.Evaluations * p.Stacked.ValidationPromptsPerEvaluation),
                    pairs.Average(p => p.Stacked!.Points[^1].WallSeconds), pairs.Average(p => p.Alone!.Points[^1].WallSeconds),
                    MeanOrNull(pairs.Select(p => ForgettingPerGain(p.Stacked!, p.Alone!)?.Jump)), MeanOrNull(pairs.Select(p => ForgettingPerGain(p.Stacked!, p.Alone!)?.Training))));
            }
        }
        return new TunedSummary(regime.Name, algorithm, regime.TotalSteps, regime.BaseRate, tuned, tunedDev?.Target, tunedTo100, tunedTo96, heldTarget,
            choice?.Method, choice?.Window, speedup100, speedup96, wallSpeedup100, reached100, reached96, selfTuning, sweepSteps, alphaBase,
            earlyMultiple, earlyTo100, speedupEarly,
            devRows, heldRows, stacked, choices, properties);
    }

    /// <summary>
    /// Format-C reward lost per unit of task reward gained: by the first kept jump, and by training at the same rate from
    /// the same weights (the window's end) until it first reaches the task reward the jump landed on (or T). Null when
    /// no jump was kept or the jump gained nothing on the task.
    /// </summary>
    public static (double Jump, double? Training)? ForgettingPerGain(RunRecord stacked, RunRecord alone)
    {
        var jump = stacked.Jumps.FirstOrDefault(j => j.Kept);
        if (jump is not { TaskBefore: { } u0, RetainedBefore: { } c0, TaskAfter: { } u1, RetainedAfter: { } c1 }) return null;
        return Sweep.ForgettingPerGain((u0, c0), (u1, c1), alone.Points.Select(p => (p.Trained, p.Task, p.Retained)).ToList(), (int)jump.TrainedStep);
    }

    private static double? MeanOrNull(IEnumerable<double?> values)
    {
        var present = values.Where(v => v is not null).Select(v => v!.Value).ToList();
        return present.Count > 0 ? present.Average() : null;
    }

    private static RunSpec Train(TunedRegime regime, string algorithm, int seed, double multiple) => new(regime.Name, algorithm, seed, multiple, "train", null);

    private static List<RateRow> RateRows(TunedPlan plan, TunedHarness harness, TunedRegime regime, string algorithm, List<RateOutcome> rates, int[] seeds, double? target) =>
        rates.Select(r =>
        {
            var records = seeds.Select(s => harness.Cached(Train(regime, algorithm, s, r.Multiple))!).ToList();
            var finals = r.Seeds.Select(c => c.Final).ToArray();
            int forgot = records.Count(x => x.Points[^1].Retained < (1 - ForgettingQuality.Allowance) * x.Points[0].Retained);
            return new RateRow(r.Multiple, regime.BaseRate * r.Multiple, r.Seeds.Count, finals.Average(), SpeedupReport.Sd(finals),
                records.Average(x => x.Points[^1].Task), records.Average(x => x.Points[^1].Retained), r.Mean.Peak,
                target is { } t ? r.Mean.FirstReach(t) : null, r.CollapsedSeeds, r.DeclinedSeeds, forgot, r.Seeds.Count(c => c.StillImproving()));
        }).ToList();

    private static string Markdown(TunedPlan plan, IReadOnlyList<TunedSummary> summaries, string command)
    {
        var md = new StringBuilder();
        var I = CultureInfo.InvariantCulture;
        md.AppendLine("# AlphaRL against a tuned learning rate");
        md.AppendLine();
        md.AppendLine(I, $"- Command: `dotnet run -c Release --project AlphaRL.Benchmarks -- tuned {command}` ({(plan.Quick ? "quick" : "full")} mode); runs cached in `runs/`.");
        var first = plan.Regimes[0];
        md.AppendLine(I, $"- Development seeds {string.Join(", ", plan.DevelopmentSeeds(first))} (the tuned rate and AlphaRL's method and window are chosen on them); held-out seeds {string.Join(", ", plan.HeldOutSeeds(first))} (every headline figure); the width trend (`elicit-forget-d64`, `-d256`) has one of each, 1 and 4.");
        md.AppendLine(I, $"- Every run is measured on the test prompts every {TunedRegime.EvalEvery} steps (and right after a kept jump, which replaces that step's point). Quality in `elicit-forget` = exact expected reward on format U − 10·max(0, 0.98·C(W0) − C), C the exact expected reward on the same held-out pairs in format C; elsewhere the U reward alone.");
        md.AppendLine("- Tuned rate: among rates where every development seed kept at least 3/4 of its best gain (no collapse, no decline), the one whose mean curve first reaches the best mean final quality any such rate reached at T.");
        md.AppendLine("- Speedup over tuned: on each held-out seed, the tuned run's steps to its own final quality (or 96% of its gain) / the steps AlphaRL stacked on the tuned rate needs to reach the same quality; mean over seeds; null unless every seed got there.");
        md.AppendLine("- Stopping early at a larger rate: the rate whose development mean curve reaches the development target first, stable or not, stopped when it gets there (a user who checkpoints and evaluates often can do this).");
        md.AppendLine("- Self-tuning: (rates − 1)·T + the tuned run's steps to its final quality (a user's sweep, one seed per rate, then the tuned run) / the steps of AlphaRL at the base rate, with no sweep, to the same quality.");
        md.AppendLine();
        foreach (var s in summaries)
        {
            md.AppendLine(I, $"## {s.Regime}, {s.Algorithm} (T = {s.TotalSteps}, base rate {s.BaseRate:G3})");
            md.AppendLine();
            md.AppendLine(I, $"- Tuned rate (development seeds): {(s.TunedLrMultiple is { } m ? $"{m:G}x = {m * s.BaseRate:G3}" : "not yet")}; development target {F(s.DevelopmentTarget)}.");
            md.AppendLine(I, $"- AlphaRL's setting (development seeds): {s.ChosenMethod ?? "not yet chosen"}{(s.ChosenWindow is { } w ? $", window {w:P0} of T" : "")}.");
            md.AppendLine(I, $"- **Held-out seeds: tuned run to its final quality {F(s.TunedStepsTo100, "F0")} steps; AlphaRL on the tuned rate {X(s.SpeedupOverTunedTo100)} fewer steps to 100% ({s.SeedsReached100} seeds reached), {X(s.SpeedupOverTunedTo96)} to 96% ({s.SeedsReached96} reached); wall-clock to 100% (guard evaluations included) {X(s.WallclockSpeedupOverTunedTo100)}.**");
            md.AppendLine(I, $"- Stopping early at a larger rate: {(s.EarlyStopLrMultiple is { } em ? $"{em:G}x" : "–")} (first to the development target, stable or not) needs {F(s.EarlyStopStepsTo100, "F0")} steps to the held-out tuned runs' final quality; AlphaRL on the tuned rate is {X(s.SpeedupOverEarlyStopTo100)} faster than that.");
            md.AppendLine(I, $"- Self-tuning: sweep plus tuned run {F(s.SweepStepsToTarget, "F0")} steps; AlphaRL at the base rate {F(s.AlphaRlBaseStepsToTarget, "F0")} steps to the same quality: {X(s.SelfTuningSpeedupTo100)}.");
            md.AppendLine();
            foreach (var (title, rows) in new[] { ("Sweep, development seeds", s.DevelopmentSweep), ("Sweep, held-out seeds", s.HeldOutSweep) })
                Table(md, title, ["rate", "lr", "final quality", "final U", "final C", "peak of mean", "steps to target", "collapsed", "declined", "forgot C (>2%)", "still improving"],
                    rows, r => $"{r.Multiple:G}x | {r.LearningRate:G3} | {r.FinalQuality:F4} ± {r.FinalQualitySd:F4} | {r.FinalTask:F4} | {r.FinalRetained:F4} | {r.PeakQuality:F4} | {(r.StepsToTarget is { } n ? n.ToString(I) : "–")} | {r.CollapsedSeeds}/{r.Seeds} | {r.DeclinedSeeds}/{r.Seeds} | {r.ForgotSeeds}/{r.Seeds} | {r.StillImprovingSeeds}/{r.Seeds}");
            const string forgetting = "format C lost per U gained: jump / training to the same U";
            Table(md, "AlphaRL's settings tried on the development seeds (at their tuned rate)",
                ["method", "window", "mean steps to the tuned run's final quality (T+1 if not reached)", "seeds reached", "evaluations", "final quality", "mean kept length j", forgetting],
                s.Choices.OrderBy(c => c.MeanSteps),
                c => $"{c.Method} | {c.Window:P0} | {c.MeanSteps:F1} | {c.ReachedSeeds} | {c.Evaluations:F1} | {c.FinalQuality:F4} | {F(c.MeanJumpLength, "G3")} | {F(c.ForgettingPerGainJump, "F3")} / {F(c.ForgettingPerGainTraining, "F3")}");
            Table(md, "AlphaRL stacked on every rate (held-out seeds)",
                ["rate", "final quality, stacked / alone", "steps to the tuned run's final, stacked / alone", "seeds reached", "worst shortfall below the rate alone", "kept jumps", "evaluations", "rollouts", "evaluation prompts", "wall s, stacked / alone", forgetting],
                s.Stacked,
                r => $"{r.Multiple:G}x | {r.FinalQuality:F4} / {r.AloneFinalQuality:F4} | {F(r.StepsToTunedFinal, "F0")} / {F(r.AloneStepsToTunedFinal, "F0")} | {r.ReachedSeeds} | {r.WorstShortfall:F4} | {r.KeptJumps} | {r.Evaluations:F1} | {r.RolloutsPerRun:F0} | {r.EvaluationForwardPasses:F0} | {r.WallSeconds:F1} / {r.AloneWallSeconds:F1} | {F(r.ForgettingPerGainJump, "F3")} / {F(r.ForgettingPerGainTraining, "F3")}");
            Table(md, "The paper's properties at the tuned rate (held-out seeds)",
                ["seed", "‖dW‖/‖W0‖", "rank-1 energy share", "rank-1 recovery (rescaled)", "held-out line error (2nd half from 1st)", "velocity cosine (AlphaRL's window)", "step-norm trend"],
                s.PropertiesAtTuned,
                p => $"{p.Seed} | {p.UpdateToBase:E2} | {p.EnergyShare:F2} | {p.Rank1Recovery:F2} | {p.TrajectoryFitError:F3} | {F(p.VelocityCosine, "F3")} | {F(p.StepNormTrend, "F3")}");
            md.AppendLine(I, $"![{s.Regime} {s.Algorithm}](tuned-{s.Regime}-{s.Algorithm}.png)");
            if (plan.Regimes.Single(r => r.Name == s.Regime).CountForgetting)
                md.AppendLine(I, $"![{s.Regime} {s.Algorithm}: task against format C](tuned-{s.Regime}-{s.Algorithm}-frontier.png)");
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>A markdown table under a heading; nothing when there are no rows. Rows are formatted in the invariant culture.</summary>
    private static void Table<T>(StringBuilder md, string title, string[] columns, IEnumerable<T> rows, Func<T, FormattableString> row)
    {
        var list = rows.ToList();
        if (list.Count == 0) return;
        md.AppendLine(CultureInfo.InvariantCulture, $"### {title}");
        md.AppendLine();
        md.AppendLine($"| {string.Join(" | ", columns)} |");
        md.AppendLine($"|{string.Concat(Enumerable.Repeat("---|", columns.Length))}");
        foreach (var r in list) md.AppendLine($"| {FormattableString.Invariant(row(r))} |");
        md.AppendLine();
    }

    /// <summary>Quality against steps: the held-out seeds' mean curve of every rate, and AlphaRL on the tuned rate.</summary>
    private static bool Plot(TunedPlan plan, TunedHarness harness, TunedRegime regime, TunedSummary s, string path)
    {
        bool heldOutDone = plan.HeldOutSeeds(regime).All(x => regime.Multiples.All(m => harness.Cached(Train(regime, s.Algorithm, x, m)) is not null));
        var seeds = heldOutDone ? plan.HeldOutSeeds(regime) : plan.DevelopmentSeeds(regime);
        var plot = new Plot();
        var frontier = new Plot();
        double top = double.NegativeInfinity, start = 0;
        var palette = new ScottPlot.Palettes.Category10();
        int colour = 0;
        foreach (double m in regime.Multiples)
        {
            var color = palette.GetColor(colour++);
            var alone = seeds.Select(x => harness.Cached(Train(regime, s.Algorithm, x, m))).ToList();
            if (alone.Any(r => r is null)) continue;
            var mean = Sweep.MeanCurve(alone.Select(r => r!.Quality()).ToList());
            (top, start) = (Math.Max(top, mean.Peak), mean.Initial);
            var line = plot.Add.Scatter(mean.Steps.Select(x => (double)x).ToArray(), mean.Values.ToArray());
            var trace = frontier.Add.Scatter(alone[0]!.Points.Select(p => p.Task).ToArray(), alone[0]!.Points.Select(p => p.Retained).ToArray());
            trace.Color = color;
            trace.MarkerSize = 2;
            trace.LineWidth = m == s.TunedLrMultiple ? 2.5f : 1f;
            trace.LegendText = FormattableString.Invariant($"{m:G}x, seed {seeds[0]}");
            line.Color = color;
            line.MarkerSize = 0;
            line.LineWidth = m == s.TunedLrMultiple ? 3f : 1.5f;
            line.LegendText = FormattableString.Invariant($"{m:G}x ({m * regime.BaseRate:G2}){(m == s.TunedLrMultiple ? ", tuned" : "")}");
            if (s.ChosenMethod is { } method && s.ChosenWindow is { } w && (m == s.TunedLrMultiple || m == 1))
            {
                var stacked = seeds.Select(x => harness.Cached(new RunSpec(regime.Name, s.Algorithm, x, m, method, w))).ToList();
                if (stacked.All(r => r is not null))
                {
                    var sm = Sweep.MeanCurve(stacked.Select(r => r!.Quality()).ToList());
                    var jumped = plot.Add.Scatter(sm.Steps.Select(x => (double)x).ToArray(), sm.Values.ToArray());
                    jumped.Color = color;
                    jumped.MarkerSize = 0;
                    jumped.LineWidth = 2.5f;
                    jumped.LinePattern = LinePattern.Dashed;
                    jumped.LegendText = FormattableString.Invariant($"AlphaRL ({method}, window {w:P0}) on {m:G}x");
                    var jumpedPath = frontier.Add.Scatter(stacked[0]!.Points.Select(p => p.Task).ToArray(), stacked[0]!.Points.Select(p => p.Retained).ToArray());
                    jumpedPath.Color = color;
                    jumpedPath.MarkerSize = 4;
                    jumpedPath.LinePattern = LinePattern.Dashed;
                    jumpedPath.LegendText = FormattableString.Invariant($"AlphaRL on {m:G}x, seed {seeds[0]}");
                }
            }
        }
        if (s.HeldOutTunedFinalQuality is { } target)
        {
            var h = plot.Add.HorizontalLine(target);
            h.LinePattern = LinePattern.Dotted;
            h.Color = Colors.Gray;
            h.LegendText = "tuned run's final quality";
        }
        plot.Title($"{s.Regime}, {s.Algorithm}: mean of seeds {string.Join(", ", seeds)}");
        plot.XLabel("RL steps trained");
        plot.YLabel(regime.CountForgetting ? "quality: U reward − 10 × format-C loss beyond 2%" : "exact expected reward, test prompts");
        plot.ShowLegend(Alignment.LowerRight);
        // Collapsed rates fall far below the base (quality down to −10): the axis shows the useful range, and they leave it.
        plot.Axes.SetLimitsY(start - 0.4, top + 0.05);
        plot.Axes.SetLimitsX(0, regime.TotalSteps * 1.02);
        SavePng(plot, path);
        if (regime.CountForgetting)
        {
            frontier.Title($"{s.Regime}, {s.Algorithm}: the price of progress (each point a measurement, every {TunedRegime.EvalEvery} steps)");
            frontier.XLabel("task: exact expected reward, format U");
            frontier.YLabel("retained: exact expected reward, format C");
            var floor = frontier.Add.HorizontalLine((1 - ForgettingQuality.Allowance) * Alone0Retained(harness, regime, s.Algorithm, seeds[0]));
            floor.LinePattern = LinePattern.Dotted;
            floor.Color = Colors.Gray;
            floor.LegendText = "format C allowance (98% of the base)";
            frontier.Axes.SetLimitsY(0.8, 1.005);
            frontier.Axes.SetLimitsX(start - 0.02, 1);
            frontier.ShowLegend(Alignment.LowerLeft);
            SavePng(frontier, path.Replace(".png", "-frontier.png", StringComparison.Ordinal));
        }
        return true;
    }

    private static double Alone0Retained(TunedHarness harness, TunedRegime regime, string algorithm, int seed) =>
        harness.Cached(Train(regime, algorithm, seed, regime.Multiples[0]))!.Points[0].Retained;

    private static void SavePng(Plot plot, string path)
    {
        string temporary = path + ".tmp.png";
        plot.SavePng(temporary, 1000, 620);
        File.Move(temporary, path, overwrite: true);
    }

    private static string F(double? v, string format = "F4") => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string X(double? v) => v is { } x ? x.ToString("F2", CultureInfo.InvariantCulture) + "x" : "not reached";
}
