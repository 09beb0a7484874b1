using AlphaRl.Workloads.Model;
using AlphaRl.Workloads.Tasks;

namespace AlphaRl.Workloads;

/// <summary>
/// Everything that defines an RL run of the evidence workload. Two runs with equal settings produce the same
/// weights step by step on the same machine's CPU. Defaults are the benchmark's GRPO regime.
/// </summary>
public sealed record RlRunSettings
{
    /// <summary>"grpo" or "ppo". Default "grpo".</summary>
    public string Algorithm { get; init; } = "grpo";

    /// <summary>Task name (<see cref="VerifiableTask.Parse"/>). Default "add2".</summary>
    public string Task { get; init; } = "add2";

    /// <summary>Seed of the prompt split, the base model, the prompts drawn and the samples. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Model width. Default 64.</summary>
    public int Width { get; init; } = 64;

    /// <summary>Transformer blocks. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Policy learning rate (AdamW). Default 1e-4.</summary>
    public double LearningRate { get; init; } = 1e-4;

    /// <summary>The policy's optimizer: "adamw" (default) or "sgd" (plain SGD, no momentum).</summary>
    public string Optimizer { get; init; } = "adamw";

    /// <summary>AdamW weight decay of the policy. Default 0.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Prompts per RL step. Default 32.</summary>
    public int PromptsPerStep { get; init; } = 32;

    /// <summary>Completions sampled per prompt (GRPO's group size; PPO uses 1 and more prompts). Default 8.</summary>
    public int SamplesPerPrompt { get; init; } = 8;

    /// <summary>Passes of gradient updates over each batch of samples (the ratio is clipped from the second on). Default 1.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>PPO/GRPO ratio clip ε. Default 0.2.</summary>
    public double ClipEpsilon { get; init; } = 0.2;

    /// <summary>Weight of the KL penalty to the base model (k3 estimator); 0 turns it off and keeps no reference copy. Default 0.</summary>
    public double KlCoefficient { get; init; }

    /// <summary>Sampling temperature of the rollouts. Default 1.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>PPO discount γ. Default 1 (the reward comes once, at the end).</summary>
    public double Gamma { get; init; } = 1.0;

    /// <summary>PPO GAE λ. Default 0.95.</summary>
    public double Lambda { get; init; } = 0.95;

    /// <summary>Learning rate of PPO's value head. Default 1e-3.</summary>
    public double ValueLearningRate { get; init; } = 1e-3;

    /// <summary>Validation accuracy at which supervised training of the base model stops. Default 0.3.</summary>
    public double BaseTargetAccuracy { get; init; } = 0.3;

    /// <summary>
    /// How accuracy is measured: 0 for greedy decoding, k &gt; 0 for the mean exact match of k completions per problem
    /// sampled at temperature 1 with a fixed seed per split (the same draws for every set of weights). Default 0.
    /// </summary>
    public int EvalSamples { get; init; }

    /// <summary>Linear learning-rate warm-up over this many steps, then constant. Default 0 (none).</summary>
    public int WarmupSteps { get; init; }

    /// <summary>Clip the policy gradient's global norm to this; 0 turns clipping off. Default 0.</summary>
    public double GradientClip { get; init; }

    /// <summary>
    /// Train only the matrices AlphaRL covers by default (attention and MLP weights); embeddings, norms and the output
    /// head stay frozen. Default false (everything trains).
    /// </summary>
    public bool TrainOnlyCovered { get; init; }

    /// <summary>Validation problems (guard, ExPO's alpha). Default 400.</summary>
    public int ValidationSize { get; init; } = 400;

    /// <summary>Test problems (reported accuracy). Default 1000.</summary>
    public int TestSize { get; init; } = 1000;

    /// <summary>
    /// Where the policy, its optimizer, the prompts and every evaluation live: "cpu" (default), "cuda" or "cuda:N"
    /// (<see cref="ComputeDevice.Parse(string, string)"/>). Base models are trained and cached on the CPU and moved there.
    /// </summary>
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// The dtype of the policy's weights: "fp32" (default) or "bf16". Logits, log-probabilities, advantages and the PPO
    /// value head stay float32.
    /// </summary>
    public string DType { get; init; } = "fp32";

    /// <summary>The task these settings name.</summary>
    public VerifiableTask CreateTask() => VerifiableTask.Parse(Task);

    /// <summary>The model shape for the task.</summary>
    public GptConfig ModelConfig(VerifiableTask task) =>
        new(task.Alphabet.Length, task.PromptLength + task.AnswerLength, Width, Layers, Heads: 4, MlpWidth: 4 * Width);

    /// <summary>Checks the settings, naming the first bad one.</summary>
    public void Validate()
    {
        if (Algorithm is not ("grpo" or "ppo")) throw new ArgumentException($"Algorithm \"{Algorithm}\" is not grpo or ppo.");
        _ = CreateTask();
        if (Optimizer is not ("adamw" or "sgd")) throw new ArgumentException($"Optimizer \"{Optimizer}\" is not adamw or sgd.");
        if (LearningRate is <= 0 or > 1) throw new ArgumentException($"LearningRate {LearningRate} is not in (0, 1].");
        if (PromptsPerStep < 1) throw new ArgumentException($"PromptsPerStep {PromptsPerStep} must be at least 1.");
        if (SamplesPerPrompt < (Algorithm == "grpo" ? 2 : 1)) throw new ArgumentException($"SamplesPerPrompt {SamplesPerPrompt} is too small for {Algorithm} (GRPO needs groups of 2 or more).");
        if (Epochs < 1) throw new ArgumentException($"Epochs {Epochs} must be at least 1.");
        if (Width % 4 != 0 || Width < 4) throw new ArgumentException($"Width {Width} must be a positive multiple of 4 (4 heads).");
        if (WarmupSteps < 0) throw new ArgumentException($"WarmupSteps {WarmupSteps} must not be negative.");
        if (GradientClip < 0 || !double.IsFinite(GradientClip)) throw new ArgumentException($"GradientClip {GradientClip} must be 0 (off) or positive.");
        if (BaseTargetAccuracy is <= 0 or >= 1) throw new ArgumentException($"BaseTargetAccuracy {BaseTargetAccuracy} is not in (0, 1).");
        _ = ComputeDevice.ParseDType(DType, nameof(DType));
        _ = ComputeDevice.Parse(Device, nameof(Device));
    }
}
