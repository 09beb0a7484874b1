using AlphaRl.Workloads;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// One regime of the benchmark: the RL settings of its GRPO and PPO runs, the run length T, the early windows, the
/// snapshot interval and how often the benchmark measures the test metric.
/// </summary>
/// <remarks>Peers and stopping early are measured at every window (they cost one evaluation each); AlphaRL's retrained runs
/// at <see cref="JumpWindows"/> (all windows in full mode, the first in quick mode).</remarks>
internal sealed record Regime(string Name, RlRunSettings Grpo, RlRunSettings Ppo, int TotalSteps, int[] Windows,
    int EvalEvery, string[] Algorithms, int[] Seeds, bool Quick)
{
    /// <summary>Snapshots AlphaRL takes in each window (the interval is the window's fifth).</summary>
    public const int SnapshotsPerWindow = 5;

    /// <summary>The windows AlphaRL's methods are retrained from: all in full mode, the 25% window in quick mode.</summary>
    public int[] JumpWindows => Quick ? [QuarterWindow] : Windows;

    /// <summary>The window at a quarter of the run, from which the diagnostics and the larger-rate stacking are reported.</summary>
    public int QuarterWindow => Windows.Single(w => w * 4 == TotalSteps);

    /// <summary>The block of repeated guarded jumps, in steps: a tenth of the run.</summary>
    public int Block => TotalSteps / 10;

    public RlRunSettings Settings(string algorithm, int seed) => (algorithm == "grpo" ? Grpo : Ppo) with { Seed = seed };

    public RegimeRecord Record => new(Name, Grpo.Task, Grpo.Width, Grpo.Layers, Grpo.LearningRate, TotalSteps, Windows, SnapshotsPerWindow,
        Grpo.TrainOnlyCovered, "exact expected reward on the test prompts", Algorithms, Seeds);

    /// <summary>
    /// The benchmark's plan. <c>elicit-lr1e-6</c> (called <c>llm-like</c> in results written before the tuned-baseline
    /// benchmark; its rate is about 100x below a usable one, see <c>docs/evidence.md</c>): the elicitation task (a pretrained base that has the skill in format C and
    /// prefers a wrong rule in format U; RL on U), width 128, Adam at 1e-6 with a 10-step warm-up and gradient clipping,
    /// only the covered matrices trained, T = 200. <c>control</c>: sorting 4 digits from a half-trained base at 3e-4,
    /// where the paper's premise fails (T = 100). Quick mode: GRPO, one seed. Full mode: GRPO and PPO, 3 seeds, and
    /// <c>elicit-lr1e-6-all</c> (every tensor trained) with GRPO, one seed.
    /// </summary>
    public static IReadOnlyList<Regime> Plan(bool quick)
    {
        int[] seeds = quick ? [1] : [1, 2, 3];
        string[] algorithms = quick ? ["grpo"] : ["grpo", "ppo"];
        var llmGrpo = new RlRunSettings
        {
            Algorithm = "grpo", Task = "elicit2", Width = 128, Layers = 2, LearningRate = 1e-6, WarmupSteps = 10, GradientClip = 1.0,
            TrainOnlyCovered = true, PromptsPerStep = 32, SamplesPerPrompt = 8, Epochs = 1, ValidationSize = 512, TestSize = 600,
        };
        var llmPpo = llmGrpo with { Algorithm = "ppo", PromptsPerStep = 256, SamplesPerPrompt = 1 };
        var controlGrpo = new RlRunSettings
        {
            Algorithm = "grpo", Task = "sort4", LearningRate = 3e-4, PromptsPerStep = 32, SamplesPerPrompt = 8, ValidationSize = 400, TestSize = 1000,
        };
        var controlPpo = controlGrpo with { Algorithm = "ppo", PromptsPerStep = 256, SamplesPerPrompt = 1, Epochs = 2 };
        var plan = new List<Regime>
        {
            new("elicit-lr1e-6", llmGrpo, llmPpo, 200, [25, 50, 80], 10, algorithms, seeds, quick),
            new("control", controlGrpo, controlPpo, 100, [25, 40], 5, algorithms, seeds, quick),
        };
        if (!quick)
            plan.Add(new("elicit-lr1e-6-all", llmGrpo with { TrainOnlyCovered = false }, llmPpo with { TrainOnlyCovered = false }, 200, [25, 50, 80], 10, ["grpo"], [1], quick));
        return plan;
    }
}
