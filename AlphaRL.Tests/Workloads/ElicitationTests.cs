using AlphaRl.TorchSharp;
using AlphaRl.Workloads;
using AlphaRl.Workloads.Tasks;
using AlphaRl.Workloads.Training;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Workloads;

/// <summary>The LLM-like elicitation workload: the task, the pretraining mixture, the committed base and the exact expected reward.</summary>
public class ElicitationTests
{
    private static readonly ElicitationTask Task = new();

    private static RlRunSettings Llm(string algorithm = "grpo") => new()
    {
        Algorithm = algorithm, Task = ElicitationTask.TaskName, Width = 128, Layers = 2, LearningRate = 1e-6, WarmupSteps = 10, GradientClip = 1.0,
        TrainOnlyCovered = true, PromptsPerStep = 8, SamplesPerPrompt = algorithm == "grpo" ? 4 : 1, ValidationSize = 64, TestSize = 64,
    };

    [Test]
    public void Prompts_CarryTheFormatMarker_AndAnswersAreReversedSums()
    {
        long id = 7 * 100 + 35; // 07 + 35 = 42
        Assert.That(Task.Prompt(PromptFormat.C, id), Is.EqualTo("C07+35="));
        Assert.That(Task.Get(id).Prompt, Is.EqualTo("U07+35="));
        Assert.That(Task.CorrectAnswer(id), Is.EqualTo("240"));
        Assert.That(Task.WrongAnswer(id), Is.EqualTo("230"), "7+5 = 12 -> 2 without the carry; 0+3 = 3; last digit 0");
        Assert.That(Task.NeedsCarry(id), Is.True);
        Assert.That(Task.Reward(Task.Get(id), "240"), Is.EqualTo(1.0));
        Assert.That(Task.Reward(Task.Get(id), "230"), Is.EqualTo(0.0));
        Assert.That(Task.Reward(Task.Get(id), "24"), Is.EqualTo(0.0));
    }

    [Test]
    public void WrongRule_AgreesWithTheSum_ExactlyWhenNoDigitCarries()
    {
        for (long id = 0; id < Task.ProblemCount; id++)
        {
            int a = (int)(id / 100), b = (int)(id % 100);
            bool carries = a % 10 + b % 10 >= 10 || a / 10 + b / 10 + (a % 10 + b % 10 >= 10 ? 1 : 0) >= 10;
            Assert.That(Task.NeedsCarry(id), Is.EqualTo(carries), $"pair {a:00}+{b:00}");
        }
    }

    [Test]
    public void Mixture_HasTheConfiguredFormatShares_AndWrongAnswersInFormatU()
    {
        var settings = new PretrainingSettings();
        int[] carryPairs = Enumerable.Range(0, (int)Task.ProblemCount).Where(id => Task.NeedsCarry(id)).ToArray();
        var texts = ElicitationBase.DrawMixture(settings, Task, carryPairs, 20_000, new Random(5));
        double Share(char format) => texts.Count(t => t[0] == format) / (double)texts.Count;
        Assert.That(Share('C'), Is.EqualTo(0.3).Within(0.015));
        Assert.That(Share('N'), Is.EqualTo(0.3).Within(0.015));
        Assert.That(Share('U'), Is.EqualTo(0.4).Within(0.015));
        long Id(string t) => long.Parse(t.AsSpan(1, 2)) * 100 + long.Parse(t.AsSpan(4, 2));
        bool IsWrong(string t) => t[7..] == Task.WrongAnswer(Id(t));
        Assert.That(texts.Where(t => t[0] == 'C').All(t => t[7..] == Task.CorrectAnswer(Id(t))), "format C is always correct");
        Assert.That(texts.Where(t => t[0] == 'N').All(IsWrong), "format N always follows the wrong rule");
        var u = texts.Where(t => t[0] == 'U').ToList();
        Assert.That(u.Count(IsWrong) / (double)u.Count, Is.EqualTo(0.85).Within(0.02));
    }

    [Test]
    public void CommittedBase_MatchesItsHash_AndHasTheSkillOnlyInFormatC()
    {
        Assert.That(ElicitationBase.HashOf(ElicitationBase.CommittedPath), Is.EqualTo(ElicitationBase.Sha256));
        using var model = ElicitationBase.Load(new PretrainingSettings().ModelConfig(Task));
        var sets = new PromptSets(Task, ElicitationBase.SplitSeed, 200, 200);
        var carry = sets.Test.Where(p => Task.NeedsCarry(p.Id)).ToList();
        var asC = carry.Select(p => p with { Prompt = Task.Prompt(PromptFormat.C, p.Id) }).ToList();
        Assert.That(Sequences.Accuracy(model, Task, asC), Is.GreaterThan(0.95), "format C answers held-out carry sums correctly");
        Assert.That(Sequences.Accuracy(model, Task, carry), Is.LessThan(0.2), "format U prefers the no-carry rule on the same pairs");
    }

    [Test]
    public void Base_OfAnotherShape_IsRejectedWithTheShapeNamed()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ElicitationBase.Load(new PretrainingSettings { Width = 64 }.ModelConfig(Task)));
        Assert.That(error!.Message, Does.Contain("another model shape").And.Contain("d64"));
    }

    [Test]
    public void AlteredBase_IsRejectedByItsHash()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"alpharl-base-{Guid.NewGuid():N}.safetensors");
        File.Copy(ElicitationBase.CommittedPath, copy);
        try
        {
            using (var stream = File.Open(copy, FileMode.Open)) { stream.Seek(-1, SeekOrigin.End); stream.WriteByte(0x5A); }
            var error = Assert.Throws<InvalidOperationException>(() => ElicitationBase.Load(new PretrainingSettings().ModelConfig(Task), copy));
            Assert.That(error!.Message, Does.Contain("SHA-256").And.Contain(ElicitationBase.Sha256).And.Contain("pretrain-base"));
        }
        finally
        {
            File.Delete(copy);
        }
    }

    [Test]
    public void ExactExpectedReward_AgreesWithASampledEstimate()
    {
        using var model = ElicitationBase.Load(new PretrainingSettings().ModelConfig(Task));
        var problems = new PromptSets(Task, ElicitationBase.SplitSeed, 40, 40).Test;
        double exact = Sequences.ExpectedReward(model, Task, problems);
        using var generator = new Generator(11);
        const int samples = 250;
        double sampled = Sequences.Accuracy(model, Task, problems, samples, generator);
        double sd = Math.Sqrt(exact * (1 - exact) / (problems.Count * samples));
        Assert.That(sampled, Is.EqualTo(exact).Within(4 * sd + 1e-3), $"exact {exact:F4}, sampled {sampled:F4}");
        Assert.That(exact, Is.InRange(0.2, 0.6), "the base's expected reward in format U is well away from 0 and 1");
    }

    [TestCase("grpo")]
    [TestCase("ppo")]
    public void LlmLikeRun_TrainsOnlyTheCoveredMatrices_WithSmallUpdates(string algorithm)
    {
        using var run = RlRuns.Create(Llm(algorithm), Path.GetTempPath());
        var before = run.Policy.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        for (int i = 0; i < 3; i++) run.TrainStep();
        var covered = ParameterCoverage.Select(run.Policy, new CoverageOptions()).Covered.Select(c => c.Name).ToHashSet();
        foreach (var (name, parameter) in run.Policy.named_parameters())
        {
            double change = (parameter - before[name]).abs().max().item<float>();
            if (covered.Contains(name)) Assert.That(change, Is.GreaterThan(0).And.LessThan(1e-4), name);
            else Assert.That(change, Is.EqualTo(0), $"{name} is frozen");
        }
        Assert.That(run.ExpectedReward(EvalSplit.Test), Is.InRange(0.0, 1.0));
    }
}
