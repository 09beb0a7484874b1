using AlphaRl.Workloads.Model;
using AlphaRl.Workloads.Tasks;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Workloads.Training;

/// <summary>
/// The base model an RL run starts from, made the way LLMs are: brief supervised training on the task until greedy
/// validation accuracy first reaches a target, so the model starts partly capable. Built on first use, deterministic
/// from the seed, saved atomically to a cache folder and reused across runs.
/// </summary>
public static class BaseModels
{
    private const int Batch = 64, CheckEvery = 10, MaxSteps = 20_000;

    /// <summary>
    /// Fewest problems a task must have for supervised training to generalise to held-out prompts: a task with fewer
    /// (add1 has 100, sort2 has 100) is memorised and would train for <c>MaxSteps</c> before failing.
    /// </summary>
    public const long MinimumProblems = 1000;
    private const double LearningRate = 1e-3;

    /// <summary>The cache file of the base model for these settings.</summary>
    public static string CachePath(string cacheDirectory, RlRunSettings settings, VerifiableTask task)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(task);
        string target = Math.Round(settings.BaseTargetAccuracy * 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Path.Combine(cacheDirectory, $"base-{task.Name}-{settings.ModelConfig(task).Tag}-t{target}-s{settings.Seed}-v1.bin");
    }

    /// <summary>Loads the cached base model, or trains and caches it. <paramref name="log"/> hears what happens.</summary>
    public static TinyGpt LoadOrTrain(RlRunSettings settings, PromptSets sets, string cacheDirectory, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(sets);
        var task = sets.Task;
        if (task.ProblemCount < MinimumProblems)
            throw new ArgumentException($"Task {task.Name} has only {task.ProblemCount} problems: a base model memorises them instead of learning the task. Use a task with at least {MinimumProblems} (add2 or more digits, sort3 or longer lists).", nameof(sets));
        string path = CachePath(cacheDirectory, settings, task);
        if (File.Exists(path))
        {
            var cached = new TinyGpt(settings.ModelConfig(task));
            cached.load(path);
            return cached;
        }
        log?.Invoke($"Training the base model ({task.Name}, seed {settings.Seed}) to {settings.BaseTargetAccuracy:P0} validation accuracy; cached at {path}.");
        torch.manual_seed(settings.Seed);
        var model = new TinyGpt(settings.ModelConfig(task));
        var random = new Random(settings.Seed * 7919 + 1);
        using var optimizer = optim.AdamW(model.parameters(), lr: LearningRate, weight_decay: 0);
        int steps = 0;
        double accuracy = Sequences.Accuracy(model, task, sets.Validation);
        while (accuracy < settings.BaseTargetAccuracy)
        {
            if (steps >= MaxSteps)
                throw new InvalidOperationException($"Supervised training of the base model for {task.Name} did not reach {settings.BaseTargetAccuracy:P0} validation accuracy in {MaxSteps} steps (last {accuracy:P1}).");
            for (int i = 0; i < CheckEvery; i++, steps++)
            {
                using var scope = NewDisposeScope();
                var problems = Enumerable.Range(0, Batch).Select(_ => sets.SampleTraining(random)).ToList();
                var sequences = Sequences.Encode(problems.Select(p => p.Prompt + p.Answer).ToList(), task.Alphabet);
                var loss = -Sequences.AnswerLogProbs(model, sequences, task.PromptLength).mean();
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            accuracy = Sequences.Accuracy(model, task, sets.Validation);
        }
        log?.Invoke($"Base model reached {accuracy:P1} validation accuracy after {steps} supervised steps.");
        Directory.CreateDirectory(cacheDirectory);
        string temporary = $"{path}.tmp-{Environment.ProcessId}";
        model.save(temporary);
        File.Move(temporary, path, overwrite: true);
        return model;
    }
}
