using AlphaRl.Workloads.Model;
using AlphaRl.Workloads.Tasks;
using AlphaRl.Workloads.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Tests.Workloads;

/// <summary>Encoding, generation (greedy and seeded sampling) and answer log-probabilities on a small random GPT.</summary>
public class SequencesTests
{
    private const string Alphabet = "0123456789+=";
    private static readonly AdditionTask Task = new(2);

    private static TinyGpt NewModel(int seed = 3)
    {
        torch.manual_seed(seed);
        return new TinyGpt(new GptConfig(Alphabet.Length, Task.PromptLength + Task.AnswerLength, Width: 16, Layers: 1, Heads: 4, MlpWidth: 64));
    }

    private static List<string> Prompts(int count) =>
        Enumerable.Range(0, count).Select(i => Task.Get(i * 37 % Task.ProblemCount).Prompt).ToList();

    [Test]
    public void EncodeDecode_RoundTrip()
    {
        using var scope = NewDisposeScope();
        string[] texts = ["07+35=240", "99+99=891", "00+00=000"];
        var ids = Sequences.Encode(texts, Alphabet);

        Assert.That(ids.shape, Is.EqualTo(new long[] { 3, 9 }));
        Assert.That(ids.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(ids[0, 2].item<long>(), Is.EqualTo(10)); // '+'
        Assert.That(ids[0, 5].item<long>(), Is.EqualTo(11)); // '='
        Assert.That(ids[1, 0].item<long>(), Is.EqualTo(9));
        Assert.That(Sequences.Decode(ids, Alphabet), Is.EqualTo(texts));
    }

    [Test]
    public void Decode_NonContiguousView_ReadsTheViewNotTheStorage()
    {
        using var scope = NewDisposeScope();
        var ids = Sequences.Encode(["07+35=240", "12+34=640"], Alphabet);
        Assert.That(Sequences.Decode(ids.narrow(1, 6, 3), Alphabet), Is.EqualTo(new[] { "240", "640" }));
        Assert.That(Sequences.Decode(ids.narrow(1, 0, 2), Alphabet), Is.EqualTo(new[] { "07", "12" }));
    }

    [Test]
    public void Encode_CharacterOutsideTheAlphabet_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => Sequences.Encode(["07+35=", "07-35="], Alphabet));
        Assert.That(e!.Message, Does.Contain("'-'"));
    }

    [Test]
    public void Encode_UnequalLengths_Throws()
    {
        Assert.Throws<ArgumentException>(() => Sequences.Encode(["07+35=", "07+35"], Alphabet));
        Assert.Throws<ArgumentException>(() => Sequences.Encode([], Alphabet));
    }

    [Test]
    public void Generate_Greedy_IsDeterministic_AndTheRightShape()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel();
        var prompts = Sequences.Encode(Prompts(32), Alphabet);

        var first = Sequences.Generate(model, prompts, Task.AnswerLength, 0, null);
        var second = Sequences.Generate(model, prompts, Task.AnswerLength, 0, null);

        Assert.That(first.shape, Is.EqualTo(new long[] { 32, Task.AnswerLength }));
        Assert.That(WorkloadWeights.Same(first, second), Is.True);
        Assert.That(first.min().item<long>(), Is.GreaterThanOrEqualTo(0));
        Assert.That(first.max().item<long>(), Is.LessThan(Alphabet.Length));
    }

    [Test]
    public void Generate_Greedy_TakesTheArgmaxOfTheNextTokenLogits()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel();
        var prompts = Sequences.Encode(Prompts(16), Alphabet);

        var generated = Sequences.Generate(model, prompts, 1, 0, null);
        Tensor expected;
        using (no_grad()) expected = model.forward(prompts).select(1, -1).argmax(-1, keepdim: true);
        Assert.That(WorkloadWeights.Same(generated, expected), Is.True);
    }

    [Test]
    public void Generate_Sampling_SameSeedSameSamples_OtherSeedOtherSamples()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel();
        var prompts = Sequences.Encode(Prompts(256), Alphabet);
        using var g1 = new Generator(42);
        using var g2 = new Generator(42);
        using var g3 = new Generator(43);

        // A random model spreads probability over 12 tokens: 256 × 3 draws cannot agree by chance.
        var a = Sequences.Generate(model, prompts, Task.AnswerLength, 1.0, g1);
        var b = Sequences.Generate(model, prompts, Task.AnswerLength, 1.0, g2);
        var c = Sequences.Generate(model, prompts, Task.AnswerLength, 1.0, g3);

        Assert.That(WorkloadWeights.Same(a, b), Is.True);
        Assert.That(WorkloadWeights.Same(a, c), Is.False);
        Assert.That(a.ne(c).sum().item<long>(), Is.GreaterThan(100));
        // The same generator continues its stream: a second draw differs from the first.
        var d = Sequences.Generate(model, prompts, Task.AnswerLength, 1.0, g1);
        Assert.That(WorkloadWeights.Same(a, d), Is.False);
    }

    [Test]
    public void AnswerLogProbs_ShapeAndRange_AndMatchesTheSoftmax()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel();
        var problems = Enumerable.Range(0, 8).Select(i => Task.Get(i * 1234 % Task.ProblemCount)).ToList();
        var sequences = Sequences.Encode(problems.Select(p => p.Prompt + p.Answer).ToList(), Alphabet);

        var logProbs = Sequences.AnswerLogProbs(model, sequences, Task.PromptLength);

        Assert.That(logProbs.shape, Is.EqualTo(new long[] { 8, Task.AnswerLength }));
        Assert.That(logProbs.le(0).all().item<bool>(), Is.True);
        Assert.That(logProbs.isfinite().all().item<bool>(), Is.True);
        Assert.That(logProbs.requires_grad, Is.True);

        // The first answer token of row 0: log softmax of the logits after the prompt.
        using (no_grad())
        {
            var logits = model.forward(sequences.narrow(1, 0, Task.PromptLength));
            long target = sequences[0, Task.PromptLength].item<long>();
            double expected = logits[0, Task.PromptLength - 1].log_softmax(-1)[target].item<float>();
            Assert.That(logProbs[0, 0].item<float>(), Is.EqualTo(expected).Within(1e-5));
        }
    }

    [Test]
    public void Accuracy_IsAFractionOfTheProblems_IndependentOfTheBatch()
    {
        // A random model is not perfect on 50 problems; greedy accuracy does not depend on the batching.
        using var model = NewModel();
        var problems = Enumerable.Range(0, 50).Select(i => Task.Get(i * 191)).ToList();
        double a = Sequences.Accuracy(model, Task, problems, batch: 16);
        double b = Sequences.Accuracy(model, Task, problems);
        Assert.That(a, Is.InRange(0.0, 1.0));
        Assert.That(a, Is.LessThan(1.0));
        Assert.That(b, Is.EqualTo(a));
        Assert.That(a * problems.Count, Is.EqualTo(Math.Round(a * problems.Count)).Within(1e-9));
    }
}
