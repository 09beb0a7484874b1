namespace AlphaRl.Workloads;

/// <summary>The RL settings of the benchmark's regimes, at their base learning rate (seed 1).</summary>
public static class RlRegimes
{
    /// <summary>
    /// <c>elicit-forget</c>, GRPO: RL on format U of the elicitation base with every tensor trained, small noisy batches
    /// (4 prompts × 4 samples), Adam from 1e-6 with a 5-step warm-up and gradient clipping. A larger rate costs format C
    /// here: 10x the base rate forgets C within 100 steps, 300x collapses within 20.
    /// </summary>
    public static RlRunSettings ElicitForgetGrpo { get; } = new()
    {
        Algorithm = "grpo", Task = "elicit2", Width = 128, Layers = 2, LearningRate = 1e-6, WarmupSteps = 5, GradientClip = 1.0,
        TrainOnlyCovered = false, PromptsPerStep = 4, SamplesPerPrompt = 4, Epochs = 1, ValidationSize = 512, TestSize = 600,
    };

    /// <summary><c>elicit-forget</c>, PPO: the same with 16 prompts × 1 sample per step.</summary>
    public static RlRunSettings ElicitForgetPpo { get; } = ElicitForgetGrpo with { Algorithm = "ppo", PromptsPerStep = 16, SamplesPerPrompt = 1 };

    /// <summary>
    /// <c>elicit-lr1e-6</c>, GRPO: the earlier llm-like regime (only the covered matrices trained, 32 × 8 batches, Adam at
    /// 1e-6 with a 10-step warm-up), about 100x below a rate this model trains well at.
    /// </summary>
    public static RlRunSettings ElicitLr1e6Grpo { get; } = ElicitForgetGrpo with { WarmupSteps = 10, TrainOnlyCovered = true, PromptsPerStep = 32, SamplesPerPrompt = 8 };

    /// <summary><c>elicit-lr1e-6</c>, PPO: 256 prompts × 1 sample per step.</summary>
    public static RlRunSettings ElicitLr1e6Ppo { get; } = ElicitLr1e6Grpo with { Algorithm = "ppo", PromptsPerStep = 256, SamplesPerPrompt = 1 };
}
