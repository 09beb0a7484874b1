using AlphaRl.Workloads.Evaluation;
using Spectre.Console;

namespace AlphaRl.Benchmarks.Tuned;

/// <summary>
/// The benchmark's plan, in three stages, each run only where its runs are not cached yet:
/// <list type="number">
/// <item><b>sweep</b>: every rate of the grid, plain training, on the development and the held-out seeds.</item>
/// <item><b>choose</b>: on the development seeds only, the tuned rate (<see cref="Sweep.Tune"/>) and, in the development
/// cell (<c>elicit-forget</c> with GRPO), every AlphaRL method from every window at that rate; the method and window that
/// reach the development seeds' tuned target in the fewest steps become AlphaRL's one setting for every cell.</item>
/// <item><b>heldout</b>: on the held-out seeds, the chosen method and window stacked on every rate of the sweep (the
/// tuned one is the headline; the base rate is the self-tuning comparison).</item>
/// </list>
/// </summary>
internal sealed class TunedPlan(bool quick, IReadOnlyList<TunedRegime> regimes, IReadOnlyList<string> algorithms,
    int[] developmentSeeds, int[] heldOutSeeds, string[] methods, double[] windowShares)
{
    public bool Quick => quick;
    public IReadOnlyList<TunedRegime> Regimes => regimes;
    public IReadOnlyList<string> Algorithms => algorithms;
    /// <summary>The development seeds of <paramref name="regime"/>: its own when it names fewer, else the plan's.</summary>
    public int[] DevelopmentSeeds(TunedRegime regime) => quick || regime.Seeds is null ? developmentSeeds : regime.Seeds.Value.Development;

    /// <summary>The held-out seeds of <paramref name="regime"/>.</summary>
    public int[] HeldOutSeeds(TunedRegime regime) => quick || regime.Seeds is null ? heldOutSeeds : regime.Seeds.Value.HeldOut;
    public string[] Methods => methods;
    public double[] WindowShares => windowShares;

    /// <summary>The regime and algorithm AlphaRL's setting is chosen on (its development seeds); every other cell uses that choice.</summary>
    public (string Regime, string Algorithm) DevelopmentCell => ("elicit-forget", "grpo");

    public static TunedPlan Create(bool quick, string[]? regimeNames, string[]? algorithmNames)
    {
        var regimes = regimeNames is { Length: > 0 } ? regimeNames.Select(TunedRegime.Named).ToList()
            : quick ? [TunedRegime.Named("elicit-forget")] : TunedRegime.All().ToList();
        string[] algorithms = algorithmNames is { Length: > 0 } ? algorithmNames : quick ? ["grpo"] : ["grpo", "ppo"];
        foreach (string a in algorithms)
            if (a is not ("grpo" or "ppo")) throw new ArgumentException($"--algorithm {a}: use grpo or ppo.");
        if (quick)
        {
            // One development and one held-out seed, a shorter grid (1x, 3x, 10x, 30x, 300x), T = 100, the velocity method from three windows.
            regimes = regimes.Select(r => r with { TotalSteps = 100, Multiples = [1, 3, 10, 30, 300] }).ToList();
            return new TunedPlan(true, regimes, algorithms, [1], [4], ["alpharl_velocity"], [0.10, 0.20, 0.30]);
        }
        return new TunedPlan(false, regimes, algorithms, TunedRegime.DevelopmentSeeds, TunedRegime.HeldOutSeeds,
            ["alpharl_velocity", "alpharl_rank1"], TunedRegime.WindowShares);
    }

    /// <summary>Runs what is missing up to <paramref name="stage"/>; false when the time limit stopped it.</summary>
    /// <param name="harness">Runs and caches.</param>
    /// <param name="stage">sweep, choose, heldout or all.</param>
    /// <param name="onlySeeds">Run only these seeds' runs (null: all); a stage whose choice needs other seeds' runs stops there.</param>
    /// <param name="limit">Start no run after this much time.</param>
    public bool Execute(TunedHarness harness, string stage, ISet<int>? onlySeeds, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool Run(TunedRegime regime, RunSpec spec)
        {
            if (onlySeeds is not null && !onlySeeds.Contains(spec.Seed)) return true;
            if (clock.Elapsed > limit) return false;
            harness.GetOrRun(regime, spec, _ => { });
            return true;
        }
        foreach (var regime in regimes)
            foreach (string algorithm in algorithms)
            {
                foreach (int seed in DevelopmentSeeds(regime).Concat(HeldOutSeeds(regime)))
                    foreach (double m in regime.Multiples)
                        if (!Run(regime, new RunSpec(regime.Name, algorithm, seed, m, "train", null))) return false;
                if (stage == "sweep") continue;

                var tuned = TunedRate(harness, regime, algorithm, DevelopmentSeeds(regime));
                if (tuned is null)
                {
                    AnsiConsole.MarkupLine($"[yellow]{regime.Name} {algorithm}: no tuned rate (a development seed's sweep is not cached yet, or no rate is stable); nothing to stack on.[/]");
                    continue;
                }
                if ((regime.Name, algorithm) == DevelopmentCell)
                  foreach (int seed in DevelopmentSeeds(regime))
                    foreach (string method in methods)
                        foreach (double w in windowShares)
                            if (!Run(regime, new RunSpec(regime.Name, algorithm, seed, tuned.Value.Multiple, method, w))) return false;
                if (stage == "choose") continue;

                if (Choice(harness) is not var (chosenMethod, chosenWindow))
                {
                    AnsiConsole.MarkupLine($"[yellow]{regime.Name} {algorithm}: the development runs of AlphaRL are not all cached yet; nothing chosen.[/]");
                    continue;
                }
                foreach (int seed in HeldOutSeeds(regime))
                    foreach (double m in regime.Multiples)
                        if (!Run(regime, new RunSpec(regime.Name, algorithm, seed, m, chosenMethod, chosenWindow))) return false;
            }
        return true;
    }

    /// <summary>The rate outcomes of the sweep on <paramref name="seeds"/> (rates with every seed cached).</summary>
    public List<RateOutcome> Rates(TunedHarness harness, TunedRegime regime, string algorithm, IEnumerable<int> seeds)
    {
        var list = new List<RateOutcome>();
        foreach (double m in regime.Multiples)
        {
            var records = seeds.Select(s => harness.Cached(new RunSpec(regime.Name, algorithm, s, m, "train", null))).ToList();
            if (records.Count > 0 && records.All(r => r is not null)) list.Add(RateOutcome.Of(m, records.Select(r => r!.Quality()).ToList()));
        }
        return list;
    }

    /// <summary>The tuned multiple and target on the given seeds, when every rate has run on them.</summary>
    public (double Multiple, double Target)? TunedRate(TunedHarness harness, TunedRegime regime, string algorithm, IEnumerable<int> seeds)
    {
        var rates = Rates(harness, regime, algorithm, seeds);
        if (rates.Count < regime.Multiples.Length) return null;
        return Sweep.Tune(rates) is { } t ? (t.Tuned.Multiple, t.Target) : null;
    }

    /// <summary>
    /// The AlphaRL settings (method × window) tried at <paramref name="tunedMultiple"/> whose runs are cached on every
    /// development seed of <paramref name="regime"/>, in the plan's order.
    /// </summary>
    public List<Trial> Trials(TunedHarness harness, TunedRegime regime, string algorithm, double tunedMultiple)
    {
        var trials = new List<Trial>();
        foreach (string method in methods)
            foreach (double w in windowShares)
            {
                var pairs = DevelopmentSeeds(regime).Select(s => (Alone: harness.Cached(new RunSpec(regime.Name, algorithm, s, tunedMultiple, "train", null)),
                    Stacked: harness.Cached(new RunSpec(regime.Name, algorithm, s, tunedMultiple, method, w)))).ToList();
                if (pairs.All(p => p.Alone is not null && p.Stacked is not null))
                    trials.Add(new Trial(method, w, pairs.Select(p => (p.Alone!, p.Stacked!)).ToList(), regime.TotalSteps));
            }
        return trials;
    }

    /// <summary>
    /// AlphaRL's method and window, chosen in the development cell on its development seeds at their tuned rate: the
    /// fewest mean steps to each seed's tuned-run final quality (a seed that never reaches it counts T + 1), ties to
    /// fewer evaluations, then to the plan's order. Null until every setting has run on every development seed.
    /// </summary>
    public (string Method, double Window)? Choice(TunedHarness harness)
    {
        var regime = TunedRegime.Named(DevelopmentCell.Regime);
        regime = regimes.FirstOrDefault(r => r.Name == regime.Name) ?? regime;
        if (TunedRate(harness, regime, DevelopmentCell.Algorithm, DevelopmentSeeds(regime)) is not (var tunedMultiple, _)) return null;
        var trials = Trials(harness, regime, DevelopmentCell.Algorithm, tunedMultiple);
        if (trials.Count < methods.Length * windowShares.Length) return null;
        var best = trials.OrderBy(t => t.MeanSteps).ThenBy(t => t.Evaluations).First();
        return (best.Method, best.Window);
    }
}

/// <summary>One AlphaRL setting tried on the development seeds: each seed's run at the tuned rate alone and with AlphaRL.</summary>
internal sealed record Trial(string Method, double Window, IReadOnlyList<(RunRecord Alone, RunRecord Stacked)> Seeds, int TotalSteps)
{
    /// <summary>Per seed, the steps AlphaRL needed to reach the tuned run's final quality, or null.</summary>
    public IReadOnlyList<int?> Reach => Seeds.Select(p => p.Stacked.Quality().FirstReach(p.Alone.Quality().Final)).ToList();

    /// <summary>Mean of <see cref="Reach"/>, a seed that never got there counting T + 1.</summary>
    public double MeanSteps => Reach.Average(r => r ?? TotalSteps + 1);

    /// <summary>Mean guard evaluations of the stacked runs.</summary>
    public double Evaluations => Seeds.Average(p => p.Stacked.Evaluations);
}
