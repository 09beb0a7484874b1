using System.Globalization;

namespace AlphaRl.Workloads.Tasks;

/// <summary>How an elicitation prompt is marked, and which answers the pretraining mixture pairs with it.</summary>
public enum PromptFormat
{
    /// <summary>Format C: pretrained with correct answers.</summary>
    C,

    /// <summary>Format N: pretrained with the no-carry rule's answers.</summary>
    N,

    /// <summary>Format U: pretrained mostly with the no-carry rule, sometimes correct. RL runs on it.</summary>
    U,
}

/// <summary>
/// The LLM-like elicitation task: 2-digit addition <c>Mab+cd=</c> with a format marker M (C, N or U) and the
/// 3-digit sum written least significant digit first. A base pretrained on a mixture of formats answers format C
/// correctly but prefers a systematic wrong rule (each digit summed without carries) in format U: the skill is there,
/// and RL on format-U prompts elicits it with small updates, as RL does for a pretrained LLM. Problem <c>id</c> is the
/// pair (a = id / 100, b = id % 100) in format U; its answer is the correct sum.
/// </summary>
public sealed class ElicitationTask : VerifiableTask
{
    /// <summary>The task's name in settings and reports.</summary>
    public const string TaskName = "elicit2";

    private const int Modulus = 100;

    /// <inheritdoc/>
    public override string Name => TaskName;

    /// <inheritdoc/>
    public override string Alphabet => "0123456789+=CNU";

    /// <inheritdoc/>
    public override int PromptLength => 7;

    /// <inheritdoc/>
    public override int AnswerLength => 3;

    /// <inheritdoc/>
    public override long ProblemCount => Modulus * Modulus;

    /// <inheritdoc/>
    public override Problem Get(long id) => new(id, Prompt(PromptFormat.U, id), CorrectAnswer(id));

    /// <summary>The prompt of pair <paramref name="id"/> in <paramref name="format"/>, e.g. <c>U07+35=</c>.</summary>
    public string Prompt(PromptFormat format, long id)
    {
        var (a, b) = Operands(id);
        return string.Create(CultureInfo.InvariantCulture, $"{format}{a:00}+{b:00}=");
    }

    /// <summary>The correct sum, zero-padded to 3 digits and reversed (<c>240</c> for 7 + 35 = 42).</summary>
    public string CorrectAnswer(long id)
    {
        var (a, b) = Operands(id);
        int sum = a + b;
        return Digits(sum % 10, sum / 10 % 10, sum / 100);
    }

    /// <summary>The no-carry rule's answer: each digit (a_i + b_i) mod 10, least significant first, the last digit 0.</summary>
    public string WrongAnswer(long id)
    {
        var (a, b) = Operands(id);
        return Digits((a % 10 + b % 10) % 10, (a / 10 + b / 10) % 10, 0);
    }

    /// <summary>Whether the sum of pair <paramref name="id"/> needs a carry (then the wrong rule's answer differs).</summary>
    public bool NeedsCarry(long id) => CorrectAnswer(id) != WrongAnswer(id);

    /// <summary>
    /// One pretraining example (prompt + answer) of the mixture: format C with the correct answer, format N with the
    /// wrong rule, format U with the wrong rule with probability <paramref name="wrongShareU"/>, else correct.
    /// </summary>
    public string PretrainingText(PromptFormat format, long id, double wrongShareU, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        bool wrong = format switch
        {
            PromptFormat.C => false,
            PromptFormat.N => true,
            _ => random.NextDouble() < wrongShareU,
        };
        return Prompt(format, id) + (wrong ? WrongAnswer(id) : CorrectAnswer(id));
    }

    /// <inheritdoc/>
    public override double Reward(Problem problem, string completion)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return IsWellFormed(completion, "0123456789") && completion == CorrectAnswer(problem.Id) ? 1.0 : 0.0;
    }

    private (int A, int B) Operands(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, ProblemCount);
        return ((int)(id / Modulus), (int)(id % Modulus));
    }

    private static string Digits(int first, int second, int third) =>
        string.Create(CultureInfo.InvariantCulture, $"{first}{second}{third}");
}
