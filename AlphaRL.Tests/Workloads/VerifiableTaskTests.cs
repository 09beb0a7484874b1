using AlphaRl.Workloads.Tasks;

namespace AlphaRl.Tests.Workloads;

/// <summary>Prompt/answer formats and exact-match rewards of the addition and sorting tasks.</summary>
public class VerifiableTaskTests
{
    [Test]
    public void Addition_Get_ZeroPadsOperandsAndWritesThePaddedSumReversed()
    {
        var task = new AdditionTask(2);
        var problem = task.Get(7 * 100 + 35);

        Assert.That(problem.Id, Is.EqualTo(735));
        Assert.That(problem.Prompt, Is.EqualTo("07+35="));
        Assert.That(problem.Answer, Is.EqualTo("240")); // 42 -> "042" -> reversed
        Assert.That(task.Get(99 * 100 + 99).Answer, Is.EqualTo("891")); // 198 reversed
        Assert.That(task.Get(0).Prompt, Is.EqualTo("00+00="));
        Assert.That(task.Get(0).Answer, Is.EqualTo("000"));
    }

    [Test]
    public void Addition_ShapeMatchesEveryProblem()
    {
        var task = new AdditionTask(2);
        Assert.That(task.ProblemCount, Is.EqualTo(10_000));
        Assert.That(task.PromptLength, Is.EqualTo(6));
        Assert.That(task.AnswerLength, Is.EqualTo(3));
        foreach (long id in new long[] { 0, 1, 99, 100, 4321, 9999 })
        {
            var p = task.Get(id);
            Assert.That(p.Prompt, Has.Length.EqualTo(task.PromptLength));
            Assert.That(p.Answer, Has.Length.EqualTo(task.AnswerLength));
            Assert.That((p.Prompt + p.Answer).All(c => task.Alphabet.Contains(c)), Is.True);
            Assert.That(task.Reward(p, p.Answer), Is.EqualTo(1.0), $"id {id}");
        }
    }

    [TestCase("240", 42L)]
    [TestCase("000", 0L)]
    [TestCase("891", 198L)]
    [TestCase("100", 1L)]
    public void ParseSum_WellFormed_ReadsDigitsLeastSignificantFirst(string completion, long expected)
    {
        Assert.That(new AdditionTask(2).ParseSum(completion), Is.EqualTo(expected));
    }

    [TestCase("24")]
    [TestCase("2400")]
    [TestCase("")]
    [TestCase("2a0")]
    [TestCase("24+")]
    [TestCase("+24")]
    [TestCase("24=")]
    [TestCase("-24")]
    [TestCase(" 24")]
    public void ParseSum_Malformed_IsNull(string completion)
    {
        Assert.That(new AdditionTask(2).ParseSum(completion), Is.Null);
    }

    [Test]
    public void Addition_Reward_OneOnlyForTheExactAnswer()
    {
        var task = new AdditionTask(2);
        var problem = task.Get(735);

        Assert.That(task.Reward(problem, "240"), Is.EqualTo(1.0));
        Assert.That(task.Reward(problem, "042"), Is.EqualTo(0.0)); // not reversed
        Assert.That(task.Reward(problem, "241"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "24"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "2400"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "2+0"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "=40"), Is.EqualTo(0.0));
    }

    [Test]
    public void Sorting_Get_AndReward()
    {
        var task = new SortingTask(4);
        var problem = task.Get(3142);

        Assert.That(problem.Prompt, Is.EqualTo("3142>"));
        Assert.That(problem.Answer, Is.EqualTo("1234"));
        Assert.That(task.Get(7).Prompt, Is.EqualTo("0007>"));
        Assert.That(task.Get(7).Answer, Is.EqualTo("0007"));
        Assert.That(task.Get(9870).Answer, Is.EqualTo("0789"));
        Assert.That(task.Reward(problem, "1234"), Is.EqualTo(1.0));
        Assert.That(task.Reward(problem, "3142"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "123"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "12345"), Is.EqualTo(0.0));
        Assert.That(task.Reward(problem, "123>"), Is.EqualTo(0.0));
    }

    [Test]
    public void Parse_KnownNames()
    {
        var add = VerifiableTask.Parse("add3");
        var sort = VerifiableTask.Parse("sort4");

        Assert.That(add, Is.TypeOf<AdditionTask>());
        Assert.That(((AdditionTask)add).Digits, Is.EqualTo(3));
        Assert.That(add.Name, Is.EqualTo("add3"));
        Assert.That(sort, Is.TypeOf<SortingTask>());
        Assert.That(((SortingTask)sort).Length, Is.EqualTo(4));
        Assert.That(sort.Name, Is.EqualTo("sort4"));
    }

    [TestCase("mul2")]
    [TestCase("add")]
    [TestCase("sortx")]
    [TestCase("add-1")]
    public void Parse_UnknownName_ThrowsNamingIt(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => VerifiableTask.Parse(name));
        Assert.That(e!.Message, Does.Contain($"\"{name}\""));
    }

    [Test]
    public void Parse_UnsupportedSize_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VerifiableTask.Parse("add5"));
        Assert.Throws<ArgumentOutOfRangeException>(() => VerifiableTask.Parse("sort1"));
    }

    [Test]
    public void Get_OutOfRangeId_Throws()
    {
        var add = new AdditionTask(2);
        var sort = new SortingTask(4);

        Assert.Throws<ArgumentOutOfRangeException>(() => add.Get(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => add.Get(add.ProblemCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => sort.Get(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sort.Get(10_000));
        Assert.DoesNotThrow(() => add.Get(add.ProblemCount - 1));
    }
}
