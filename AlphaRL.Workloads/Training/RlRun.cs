using System.Diagnostics;
using AlphaRl.TorchSharp;
using AlphaRl.Workloads.Model;
using AlphaRl.Workloads.Tasks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.Workloads.Training;

/// <summary>
/// What GRPO and PPO share: the policy (a <see cref="TinyGpt"/> started from the cached base model), its AdamW, the
/// prompt sets, a seeded prompt stream and a seeded sampling generator, the optional frozen reference copy for the KL
/// penalty, and greedy evaluation.
/// </summary>
public abstract class RlRun : IRlRun
{
    private readonly Random _prompts;
    private readonly TinyGpt? _reference;
    private optim.Optimizer _optimizer;
    private bool _disposed;

    /// <summary>Starts a run from the base model in <paramref name="cacheDirectory"/> (trained there on first use).</summary>
    protected RlRun(RlRunSettings settings, string cacheDirectory, Action<string>? log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        Task = settings.CreateTask();
        // The elicitation base is pretrained on a fixed split, so its held-out pairs stay held out for every RL seed.
        int splitSeed = Task is ElicitationTask ? ElicitationBase.SplitSeed : settings.Seed;
        Sets = new PromptSets(Task, splitSeed, settings.ValidationSize, settings.TestSize);
        Device = ComputeDevice.Parse(settings.Device, nameof(settings.Device));
        WeightDType = ComputeDevice.ParseDType(settings.DType, nameof(settings.DType));
        Model = Place(LoadBase(settings, Sets, cacheDirectory, log));
        if (settings.KlCoefficient > 0)
        {
            _reference = Place(LoadBase(settings, Sets, cacheDirectory, log));
            foreach (var p in _reference.parameters()) p.requires_grad = false;
        }
        if (settings.TrainOnlyCovered)
        {
            var covered = ParameterCoverage.Select(Model, new CoverageOptions()).Covered.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var (name, parameter) in Model.named_parameters()) parameter.requires_grad = covered.Contains(name);
        }
        _prompts = new Random(settings.Seed * 104729 + 17);
        Generator = new Generator((ulong)(settings.Seed * 15485863L + 5), Device);
        _optimizer = NewOptimizer();
    }

    /// <summary>The settings of this run.</summary>
    public RlRunSettings Settings { get; }

    /// <summary>The task.</summary>
    public VerifiableTask Task { get; }

    /// <summary>Training, validation and test prompts.</summary>
    public PromptSets Sets { get; }

    /// <summary>The policy.</summary>
    public TinyGpt Model { get; }

    /// <summary>The frozen copy of the base the KL penalty compares with, when there is one (tests).</summary>
    internal TinyGpt? Reference => _reference;

    /// <summary>The device of the policy, its optimizer, the rollouts and the evaluations (<see cref="RlRunSettings.Device"/>).</summary>
    public Device Device { get; }

    /// <summary>The dtype of the policy's weights (<see cref="RlRunSettings.DType"/>).</summary>
    public ScalarType WeightDType { get; }

    /// <inheritdoc/>
    public abstract string Algorithm { get; }

    /// <inheritdoc/>
    public nn.Module Policy => Model;

    /// <inheritdoc/>
    public int StepsDone { get; private set; }

    /// <summary>The generator every rollout samples from.</summary>
    protected Generator Generator { get; }

    /// <inheritdoc/>
    public RlStepStats TrainStep()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var clock = Stopwatch.StartNew();
        var (reward, loss) = Update(_optimizer);
        StepsDone++;
        return new RlStepStats(StepsDone, reward, loss, clock.Elapsed);
    }

    /// <inheritdoc/>
    public double Evaluate(EvalSplit split)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Settings.EvalSamples == 0) return Sequences.Accuracy(Model, Task, Sets[split]);
        using var generator = new Generator((ulong)(Settings.Seed * 7_654_321L + (int)split + 1), Device);
        return Sequences.Accuracy(Model, Task, Sets[split], Settings.EvalSamples, generator);
    }

    /// <inheritdoc/>
    public double ExpectedReward(EvalSplit split)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Sequences.ExpectedReward(Model, Task, Sets[split]);
    }

    /// <inheritdoc/>
    public void ResetOptimizerState()
    {
        _optimizer.Dispose();
        _optimizer = NewOptimizer();
    }

    /// <summary>One RL step: roll out, score, update through <paramref name="optimizer"/>. Returns mean reward and loss.</summary>
    protected abstract (double MeanReward, double Loss) Update(optim.Optimizer optimizer);

    /// <summary>Draws <paramref name="count"/> training problems from the run's prompt stream.</summary>
    protected List<Problem> DrawProblems(int count) => Enumerable.Range(0, count).Select(_ => Sets.SampleTraining(_prompts)).ToList();

    /// <summary>
    /// The clipped surrogate loss (plus the KL penalty when configured) of answer tokens with per-token advantages,
    /// averaged over tokens: −min(ρA, clip(ρ, 1±ε)A) + β·KL_k3(π‖π_ref).
    /// </summary>
    protected Tensor PolicyLoss(Tensor sequences, Tensor oldLogProbs, Tensor advantages)
    {
        var logProbs = Sequences.AnswerLogProbs(Model, sequences, Task.PromptLength);
        var ratio = (logProbs - oldLogProbs).exp();
        double eps = Settings.ClipEpsilon;
        var surrogate = minimum(ratio * advantages, ratio.clamp(1 - eps, 1 + eps) * advantages);
        var loss = -surrogate.mean();
        if (_reference is not null)
        {
            Tensor referenceLogProbs;
            using (no_grad()) referenceLogProbs = Sequences.AnswerLogProbs(_reference, sequences, Task.PromptLength);
            var logRatio = referenceLogProbs - logProbs;
            loss = loss + Settings.KlCoefficient * (logRatio.exp() - logRatio - 1).mean();
        }
        return loss;
    }

    /// <summary>One gradient step of the policy on <see cref="PolicyLoss"/>; returns the loss.</summary>
    protected double PolicyStep(optim.Optimizer optimizer, Tensor sequences, Tensor oldLogProbs, Tensor advantages)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var objective = PolicyLoss(sequences, oldLogProbs, advantages);
        if (Settings.WarmupSteps > 0)
        {
            double lr = Settings.LearningRate * Math.Min(1.0, (StepsDone + 1.0) / Settings.WarmupSteps);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        }
        optimizer.zero_grad();
        objective.backward();
        if (Settings.GradientClip > 0) nn.utils.clip_grad_norm_(Trainable, Settings.GradientClip);
        optimizer.step();
        return objective.item<float>();
    }

    /// <summary>Samples completions for prompts; returns the full sequences, their log-probabilities and the rewards.</summary>
    protected (Tensor Sequences, Tensor OldLogProbs, double[] Rewards) Rollout(IReadOnlyList<Problem> problems)
    {
        var prompts = Sequences.Encode(problems.Select(p => p.Prompt).ToList(), Task.Alphabet, Device);
        var completions = Sequences.Generate(Model, prompts, Task.AnswerLength, Settings.Temperature, Generator);
        var sequences = cat([prompts, completions], 1);
        Tensor old;
        using (no_grad()) old = Sequences.AnswerLogProbs(Model, sequences, Task.PromptLength);
        string[] texts = Sequences.Decode(completions, Task.Alphabet);
        var rewards = new double[problems.Count];
        for (int i = 0; i < rewards.Length; i++) rewards[i] = Task.Reward(problems[i], texts[i]);
        return (sequences, old, rewards);
    }

    /// <summary>Releases the policy, optimizer and generator.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed) return;
        _disposed = true;
        if (!disposing) return;
        _optimizer.Dispose();
        Model.Dispose();
        _reference?.Dispose();
        Generator.Dispose();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    private IEnumerable<Parameter> Trainable => Model.parameters().Where(p => p.requires_grad);

    private optim.Optimizer NewOptimizer() => Settings.Optimizer == "sgd"
        ? optim.SGD(Trainable, Settings.LearningRate)
        : optim.AdamW(Trainable, lr: Settings.LearningRate, weight_decay: Settings.WeightDecay);

    /// <summary>
    /// Moves a base (loaded or trained on the CPU in float32) to the run's device and dtype. The CPU in fp32 leaves the
    /// model untouched, so such runs are bit-identical to runs made before devices existed.
    /// </summary>
    private TinyGpt Place(TinyGpt model)
    {
        if (Device.type != DeviceType.CPU) model.to(Device);
        if (WeightDType != ScalarType.Float32) model.to(WeightDType);
        return model;
    }

    private static TinyGpt LoadBase(RlRunSettings settings, PromptSets sets, string cacheDirectory, Action<string>? log) =>
        sets.Task is ElicitationTask
            ? ElicitationBase.LoadOrTrain(new PretrainingSettings { Width = settings.Width, Layers = settings.Layers }, cacheDirectory, log)
            : BaseModels.LoadOrTrain(settings, sets, cacheDirectory, log);
}

/// <summary>
/// GRPO: groups of <see cref="RlRunSettings.SamplesPerPrompt"/> completions per prompt, advantages normalised within
/// each group, the clipped ratio objective over answer tokens, an optional KL penalty to the base model.
/// </summary>
public sealed class GrpoRun : RlRun
{
    /// <summary>Starts a GRPO run from the cached base model.</summary>
    public GrpoRun(RlRunSettings settings, string cacheDirectory, Action<string>? log = null) : base(settings, cacheDirectory, log) { }

    /// <inheritdoc/>
    public override string Algorithm => "grpo";

    /// <inheritdoc/>
    protected override (double MeanReward, double Loss) Update(optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        int group = Settings.SamplesPerPrompt;
        var problems = DrawProblems(Settings.PromptsPerStep).SelectMany(p => Enumerable.Repeat(p, group)).ToList();
        var (sequences, old, rewards) = Rollout(problems);
        var advantages = tensor(Advantages.GroupNormalised(rewards, group).Select(a => (float)a).ToArray(), device: old.device).unsqueeze(1);
        double loss = 0;
        for (int epoch = 0; epoch < Settings.Epochs; epoch++) loss = PolicyStep(optimizer, sequences, old, advantages);
        return (rewards.Average(), loss);
    }
}

/// <summary>
/// PPO: one completion per prompt, a value head on the policy's (detached) final hidden states trained on GAE
/// returns, per-token advantages from GAE, whitened over the batch, and the clipped objective.
/// </summary>
public sealed class PpoRun : RlRun
{
    private readonly Linear _valueHead;
    private readonly optim.Optimizer _valueOptimizer;

    /// <summary>Starts a PPO run from the cached base model.</summary>
    public PpoRun(RlRunSettings settings, string cacheDirectory, Action<string>? log = null) : base(settings, cacheDirectory, log)
    {
        torch.manual_seed(settings.Seed + 31);
        _valueHead = nn.Linear(settings.Width, 1);
        _valueHead.to(Device);
        _valueOptimizer = optim.AdamW(_valueHead.parameters(), lr: settings.ValueLearningRate, weight_decay: 0);
    }

    /// <inheritdoc/>
    public override string Algorithm => "ppo";

    /// <summary>The value head (tests).</summary>
    internal Linear ValueHead => _valueHead;

    /// <summary>Values [batch, answerLength] of the states before each answer token.</summary>
    private Tensor Values(Tensor sequences)
    {
        Tensor hidden;
        // The value head stays float32 whatever the policy's dtype (a no-op for fp32 weights).
        using (no_grad()) hidden = Model.Hidden(sequences.narrow(1, 0, sequences.shape[1] - 1)).narrow(1, Task.PromptLength - 1, Task.AnswerLength).to(ScalarType.Float32);
        return _valueHead.forward(hidden).squeeze(-1);
    }

    /// <inheritdoc/>
    protected override (double MeanReward, double Loss) Update(optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        var problems = DrawProblems(Settings.PromptsPerStep * Settings.SamplesPerPrompt);
        var (sequences, old, rewards) = Rollout(problems);
        int steps = Task.AnswerLength;
        float[] values;
        using (no_grad()) values = Values(sequences).cpu().data<float>().ToArray();
        var advantages = new double[problems.Count * steps];
        var returns = new float[problems.Count * steps];
        var tokenRewards = new double[steps];
        var tokenValues = new double[steps];
        for (int i = 0; i < problems.Count; i++)
        {
            Array.Clear(tokenRewards);
            tokenRewards[steps - 1] = rewards[i];
            for (int t = 0; t < steps; t++) tokenValues[t] = values[i * steps + t];
            var (a, r) = Advantages.Gae(tokenRewards, tokenValues, Settings.Gamma, Settings.Lambda);
            a.CopyTo(advantages, i * steps);
            for (int t = 0; t < steps; t++) returns[i * steps + t] = (float)r[t];
        }
        var device = old.device;
        var whitened = tensor(Advantages.Whiten(advantages).Select(a => (float)a).ToArray(), device: device).view(problems.Count, steps);
        var targets = tensor(returns, device: device).view(problems.Count, steps);
        double loss = 0;
        for (int epoch = 0; epoch < Settings.Epochs; epoch++)
        {
            loss = PolicyStep(optimizer, sequences, old, whitened);

            var valueLoss = (Values(sequences) - targets).pow(2).mean();
            _valueOptimizer.zero_grad();
            valueLoss.backward();
            _valueOptimizer.step();
        }
        return (rewards.Average(), loss);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _valueOptimizer.Dispose();
            _valueHead.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>Creates runs by algorithm name.</summary>
public static class RlRuns
{
    /// <summary>A GRPO or PPO run for <paramref name="settings"/>, starting from the cached base model.</summary>
    public static RlRun Create(RlRunSettings settings, string cacheDirectory, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Algorithm switch
        {
            "grpo" => new GrpoRun(settings, cacheDirectory, log),
            "ppo" => new PpoRun(settings, cacheDirectory, log),
            _ => throw new ArgumentException($"Algorithm \"{settings.Algorithm}\" is not grpo or ppo.", nameof(settings)),
        };
    }
}
