using AlphaRl.Workloads;
using AlphaRl.Workloads.Tasks;

namespace AlphaRl.Tests.Workloads;

/// <summary>The training/validation/test split: disjoint, never trained on, reproducible from the seed.</summary>
public class PromptSetsTests
{
    private static HashSet<long> Ids(IEnumerable<Problem> problems) => problems.Select(p => p.Id).ToHashSet();

    [TestCase("add2", 1, 200, 300)] // large enough to draw by rejection
    [TestCase("add1", 1, 50, 50)] // small: enumerates the split
    [TestCase("sort4", 7, 100, 400)]
    public void EvaluationSets_AreDisjointDistinctAndNeverTraining(string name, int seed, int validation, int test)
    {
        var task = VerifiableTask.Parse(name);
        var sets = new PromptSets(task, seed, validation, test);

        Assert.That(sets.Validation, Is.Not.Empty);
        Assert.That(sets.Test, Is.Not.Empty);
        Assert.That(sets.Validation.Count, Is.LessThanOrEqualTo(validation));
        Assert.That(sets.Test.Count, Is.LessThanOrEqualTo(test));
        var v = Ids(sets.Validation);
        var t = Ids(sets.Test);
        Assert.That(v, Has.Count.EqualTo(sets.Validation.Count), "validation repeats a problem");
        Assert.That(t, Has.Count.EqualTo(sets.Test.Count), "test repeats a problem");
        Assert.That(v.Overlaps(t), Is.False);
        Assert.That(v.Concat(t).Where(sets.IsTraining), Is.Empty);
        Assert.That(sets[EvalSplit.Validation], Is.SameAs(sets.Validation));
        Assert.That(sets[EvalSplit.Test], Is.SameAs(sets.Test));
        foreach (var p in sets.Validation.Concat(sets.Test)) Assert.That(p, Is.EqualTo(task.Get(p.Id)));
    }

    [Test]
    public void LargeTask_DrawsTheRequestedSizes()
    {
        var sets = new PromptSets(new AdditionTask(3), 1, 400, 1000);
        Assert.That(sets.Validation, Has.Count.EqualTo(400));
        Assert.That(sets.Test, Has.Count.EqualTo(1000));
    }

    [Test]
    public void SmallTask_TakesEveryProblemOfTheSplitWhenAskedForMore()
    {
        var task = new AdditionTask(1);
        var sets = new PromptSets(task, 1, 50, 50);
        long validationBucket = Enumerable.Range(0, 100).Count(id => !sets.IsTraining(id)) - sets.Test.Count;
        Assert.That(sets.Validation.Count, Is.EqualTo(validationBucket));
        Assert.That(sets.Validation.Count + sets.Test.Count, Is.EqualTo(Enumerable.Range(0, 100).Count(id => !sets.IsTraining(id))));
    }

    [Test]
    public void SampleTraining_NeverReturnsAnEvaluationProblem()
    {
        var task = new AdditionTask(2);
        var sets = new PromptSets(task, 3, 200, 300);
        var held = Ids(sets.Validation.Concat(sets.Test));
        var random = new Random(11);
        var drawn = new HashSet<long>();
        for (int i = 0; i < 5000; i++)
        {
            var p = sets.SampleTraining(random);
            Assert.That(sets.IsTraining(p.Id), Is.True);
            Assert.That(held.Contains(p.Id), Is.False, $"drew held-out problem {p.Id}");
            Assert.That(p, Is.EqualTo(task.Get(p.Id)));
            drawn.Add(p.Id);
        }
        Assert.That(drawn.Count, Is.GreaterThan(2500), "draws should spread over the training problems");
    }

    [Test]
    public void TrainingShare_IsAboutNinetyPercent()
    {
        var sets = new PromptSets(new AdditionTask(2), 1, 10, 10);
        int training = Enumerable.Range(0, 10_000).Count(id => sets.IsTraining(id));
        Assert.That(training, Is.InRange(8700, 9300));
    }

    [Test]
    public void SameSeed_SameSets_DifferentSeed_DifferentSets()
    {
        var task = new AdditionTask(2);
        var a = new PromptSets(task, 5, 200, 300);
        var b = new PromptSets(task, 5, 200, 300);
        var c = new PromptSets(task, 6, 200, 300);

        Assert.That(a.Validation.Select(p => p.Id), Is.EqualTo(b.Validation.Select(p => p.Id)));
        Assert.That(a.Test.Select(p => p.Id), Is.EqualTo(b.Test.Select(p => p.Id)));
        Assert.That(Enumerable.Range(0, 10_000).All(id => a.IsTraining(id) == b.IsTraining(id)), Is.True);

        Assert.That(Ids(c.Validation).SetEquals(Ids(a.Validation)), Is.False);
        Assert.That(Ids(c.Test).SetEquals(Ids(a.Test)), Is.False);
        Assert.That(Enumerable.Range(0, 10_000).Count(id => a.IsTraining(id) != c.IsTraining(id)), Is.GreaterThan(100));
    }

    [Test]
    public void SameSeed_SameTrainingStream()
    {
        var sets = new PromptSets(new AdditionTask(2), 5, 20, 20);
        var r1 = new Random(9);
        var r2 = new Random(9);
        var first = Enumerable.Range(0, 200).Select(_ => sets.SampleTraining(r1).Id).ToList();
        var second = Enumerable.Range(0, 200).Select(_ => sets.SampleTraining(r2).Id).ToList();
        Assert.That(second, Is.EqualTo(first));
    }
}
