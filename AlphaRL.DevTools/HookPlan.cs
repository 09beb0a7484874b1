using AlphaRl.Cli;
using AlphaRl.TorchSharp;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.Workloads;

namespace AlphaRl.DevTools;

/// <summary>
/// Which hook run <c>hook-series</c> makes and <c>hook-score</c> scores for: a regime's RL settings and the window the
/// speedup benchmark retrains its velocity arm from, with that arm's options.
/// </summary>
/// <param name="Regime">The regime's name, as the speedup benchmark spells it.</param>
/// <param name="Settings">The RL run's settings (seed included).</param>
/// <param name="Window">The window in steps: the hook snapshots every Window / 5 steps and attempts at its end.</param>
internal sealed record HookPlan(string Regime, RlRunSettings Settings, int Window)
{
    /// <summary>Snapshots per window, as the speedup benchmark's <c>Regime.SnapshotsPerWindow</c>.</summary>
    public const int SnapshotsPerWindow = 5;

    /// <summary>The window of the benchmark's quick mode and of its diagnostics: a quarter of its 200 steps.</summary>
    public const int QuarterWindow = 50;

    /// <summary>The regimes <c>hook-series</c> knows, all on the committed elicitation base.</summary>
    public static readonly string[] Regimes = ["elicit-lr1e-6", "elicit-lr1e-6-all"];

    /// <summary>The plan of a named regime, as the speedup benchmark runs it on the CPU in float32.</summary>
    /// <exception cref="UsageException">An unknown regime or algorithm, or a window too short.</exception>
    public static HookPlan Named(string regime, string algorithm, int seed, int window)
    {
        var grpo = regime switch
        {
            "elicit-lr1e-6" => RlRegimes.ElicitLr1e6Grpo,
            "elicit-lr1e-6-all" => RlRegimes.ElicitLr1e6Grpo with { TrainOnlyCovered = false },
            _ => throw new UsageException($"--regime {regime} is not one of {string.Join(", ", Regimes)}."),
        };
        var settings = algorithm switch
        {
            "grpo" => grpo,
            "ppo" => grpo with { Algorithm = "ppo", PromptsPerStep = 256, SamplesPerPrompt = 1 },
            _ => throw new UsageException($"--algorithm {algorithm} is not grpo or ppo."),
        };
        if (window < SnapshotsPerWindow || window % SnapshotsPerWindow != 0)
            throw new UsageException($"--window {window} must be a positive multiple of {SnapshotsPerWindow} (one snapshot every fifth of it).");
        return new HookPlan(regime, settings with { Seed = seed }, window);
    }

    /// <summary>Steps between snapshots.</summary>
    public int Interval => Window / SnapshotsPerWindow;

    /// <summary>
    /// The options of the speedup benchmark's velocity arm (<c>SpeedupHarness.Options("alpharl_velocity", window, regime)</c>
    /// in AlphaRL.Benchmarks, kept in step with it by hand): five snapshots per window, the attempt at the window's end
    /// whatever the rank-1 fit says, the library's default velocity method and length grid, and the snapshots of the
    /// learning-rate warm-up left out of the slope.
    /// </summary>
    public AlphaRLOptions Options()
    {
        var options = new AlphaRLOptions();
        options.Snapshots.Interval = Interval;
        options.Attempts.MinSnapshots = options.Snapshots.Max = SnapshotsPerWindow;
        options.Attempts.FitThreshold = 1e9;
        options.Jumps.Methods = [new VelocityJumpOptions { IncludeUncovered = !Settings.TrainOnlyCovered, SkipSnapshots = Settings.WarmupSteps / Interval }];
        return options;
    }
}
