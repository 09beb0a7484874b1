using TorchSharp;

namespace AlphaRl.Workloads;

/// <summary>Which prompt set an evaluation uses.</summary>
public enum EvalSplit
{
    /// <summary>Prompts the guard and method choices (ExPO's alpha) may look at; never trained on.</summary>
    Validation,

    /// <summary>The held-out prompts every reported accuracy comes from; never trained on, never used to choose.</summary>
    Test,
}

/// <summary>What one optimizer step of an RL run did.</summary>
/// <param name="Step">Optimizer steps done after this one.</param>
/// <param name="MeanReward">Mean reward of the sampled completions.</param>
/// <param name="Loss">The policy loss that was minimised.</param>
/// <param name="Elapsed">Wall time of the step (sampling, rewards and update).</param>
public sealed record RlStepStats(int Step, double MeanReward, double Loss, TimeSpan Elapsed);

/// <summary>
/// One RL fine-tuning run of the small GPT on a verifiable task: the policy, its optimizer and the prompt sets.
/// Deterministic under its seed.
/// </summary>
public interface IRlRun : IDisposable
{
    /// <summary>"grpo" or "ppo".</summary>
    string Algorithm { get; }

    /// <summary>The language model being trained; the module AlphaRL covers (a PPO value head is not under it).</summary>
    torch.nn.Module Policy { get; }

    /// <summary>Optimizer steps done so far.</summary>
    int StepsDone { get; }

    /// <summary>One optimizer step: sample completions, score them, update the policy.</summary>
    RlStepStats TrainStep();

    /// <summary>Greedy exact-match accuracy of the current policy on a prompt set, in [0, 1].</summary>
    double Evaluate(EvalSplit split);

    /// <summary>
    /// The exact expected reward of the current policy on a prompt set: the mean over prompts of the probability of
    /// sampling the correct answer at temperature 1 (the product of its teacher-forced token probabilities). No
    /// sampling noise.
    /// </summary>
    double ExpectedReward(EvalSplit split);

    /// <summary>Clears the optimizer's moment estimates (called after a kept jump).</summary>
    void ResetOptimizerState();
}
