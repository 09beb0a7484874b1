using AlphaRl.Workloads;
using AlphaRl.Workloads.Evaluation;

namespace AlphaRl.Benchmarks.Tuned;

/// <summary>
/// A regime of the tuned-baseline benchmark: the GRPO and PPO settings at its base learning rate, the run length T,
/// the learning-rate multiples of the sweep, and how quality is counted.
/// </summary>
/// <param name="Name">The regime's name in results (it says what is fixed, e.g. the base rate).</param>
/// <param name="Description">One line on what the regime is for.</param>
/// <param name="Grpo">GRPO settings at the base rate.</param>
/// <param name="Ppo">PPO settings at the base rate.</param>
/// <param name="TotalSteps">T: the budget of every run.</param>
/// <param name="Multiples">The sweep's learning rates, as multiples of the base rate.</param>
/// <param name="CountForgetting">
/// Quality counts forgetting (<see cref="ForgettingQuality"/>); otherwise it is the task reward alone.
/// </param>
/// <param name="Seeds">Development and held-out seeds of this regime, when fewer than the benchmark's (the width trend).</param>
internal sealed record TunedRegime(string Name, string Description, RlRunSettings Grpo, RlRunSettings Ppo, int TotalSteps,
    double[] Multiples, bool CountForgetting, (int[] Development, int[] HeldOut)? Seeds = null)
{
    /// <summary>Every run is measured on the test prompts every this many steps (and after every jump).</summary>
    public const int EvalEvery = 2;

    /// <summary>AlphaRL's windows, as shares of T: 5% to 40% in steps of 5%.</summary>
    public static readonly double[] WindowShares = [0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.35, 0.40];

    /// <summary>Development seeds (every choice is made on them) and held-out seeds (every headline figure comes from them).</summary>
    public static readonly int[] DevelopmentSeeds = [1, 2, 3], HeldOutSeeds = [4, 5, 6];

    /// <summary>The base learning rate.</summary>
    public double BaseRate => Grpo.LearningRate;

    /// <summary>The settings of one run: algorithm, seed and learning-rate multiple.</summary>
    public RlRunSettings Settings(string algorithm, int seed, double multiple) =>
        (algorithm == "grpo" ? Grpo : Ppo) with { Seed = seed, LearningRate = BaseRate * multiple };

    /// <summary>Quality from the task reward and the retained skill's reward, given the retained reward of W0.</summary>
    public double Quality(double task, double retained, double retained0) =>
        CountForgetting ? ForgettingQuality.Score(task, retained, retained0) : task;

    /// <summary>
    /// The regimes. <c>elicit-forget</c> is the one where a larger rate has a price: the elicitation base, every tensor
    /// trained, small noisy GRPO batches (4 prompts × 4 samples; PPO 16 × 1), quality counting the loss of format C.
    /// <c>elicit-lr1e-6</c> is the earlier llm-like regime (covered matrices only, 32 × 8, no price counted), swept the
    /// same way. <c>elicit-forget-d64</c> and <c>-d256</c> are the width trend. Quick mode: <c>elicit-forget</c> alone.
    /// </summary>
    public static IReadOnlyList<TunedRegime> All()
    {
        double[] grid = [1, 3, 10, 30, 100, 300, 1000];
        return
        [
            new("elicit-forget", "RL on format U of the elicitation base, every tensor trained, 4×4 GRPO batches; quality = U reward − 10 × the loss of format C beyond 2%",
                RlRegimes.ElicitForgetGrpo, RlRegimes.ElicitForgetPpo, 200, grid, CountForgetting: true),
            new("elicit-lr1e-6", "The earlier llm-like regime: covered matrices only, 32×8 GRPO batches, Adam from 1e-6; quality = U reward",
                RlRegimes.ElicitLr1e6Grpo, RlRegimes.ElicitLr1e6Ppo, 200, grid, CountForgetting: false),
            // At width 64 every rate from 1x on forgets format C within T: the grid goes below the base rate.
            Width(64, [0.1, 0.3, 1, 3, 10, 30, 100]),
            Width(256, [1, 3, 10, 30, 100]),
        ];
        // The width trend: elicit-forget at other widths (bases pretrained on first use by the same recipe), one
        // development and one held-out seed, GRPO.
        static TunedRegime Width(int width, double[] multiples) => new($"elicit-forget-d{width}", $"elicit-forget at width {width}, one development and one held-out seed",
            RlRegimes.ElicitForgetGrpo with { Width = width }, RlRegimes.ElicitForgetPpo with { Width = width }, 200, multiples,
            CountForgetting: true, Seeds: ([1], [4]));
    }

    /// <summary>A record's points with their quality computed by this regime's rule (records keep the task and format-C rewards).</summary>
    public RunRecord Rescored(RunRecord record) => record with
    {
        Points = record.Points.Select(p => p with { Quality = Quality(p.Task, p.Retained, record.Points[0].Retained) }).ToList(),
    };

    /// <summary>The regime named <paramref name="name"/>, or an error listing the names.</summary>
    public static TunedRegime Named(string name) =>
        All().FirstOrDefault(r => r.Name == name)
        ?? throw new ArgumentException($"No regime \"{name}\": use one of {string.Join(", ", All().Select(r => r.Name))}.");
}
