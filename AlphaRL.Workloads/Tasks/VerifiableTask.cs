using System.Globalization;

namespace AlphaRl.Workloads.Tasks;

/// <summary>One problem of a task: the prompt the model sees and the answer an exact match needs.</summary>
/// <param name="Id">The problem's index in the task's enumeration.</param>
/// <param name="Prompt">Characters the model is given.</param>
/// <param name="Answer">Characters the model must produce.</param>
public sealed record Problem(long Id, string Prompt, string Answer);

/// <summary>
/// A task with exact-match rewards and fixed-length prompts and answers, whose problems are enumerated by an index
/// (so prompt sets are reproducible from a seed and splits are disjoint by construction).
/// </summary>
public abstract class VerifiableTask
{
    /// <summary>Short name used in reports and cache file names, e.g. "add2".</summary>
    public abstract string Name { get; }

    /// <summary>Every character prompts and answers may contain; the model's vocabulary.</summary>
    public abstract string Alphabet { get; }

    /// <summary>Characters in every prompt.</summary>
    public abstract int PromptLength { get; }

    /// <summary>Characters in every answer (the tokens the model generates).</summary>
    public abstract int AnswerLength { get; }

    /// <summary>How many distinct problems exist.</summary>
    public abstract long ProblemCount { get; }

    /// <summary>The problem with index <paramref name="id"/> (0 ≤ id &lt; <see cref="ProblemCount"/>).</summary>
    public abstract Problem Get(long id);

    /// <summary>
    /// The reward of a completion: 1 when it parses as an answer to the problem and is exactly right, else 0.
    /// Completions of the wrong length or with characters an answer cannot have score 0.
    /// </summary>
    public abstract double Reward(Problem problem, string completion);

    /// <summary>The task by name: <c>addN</c> (N-digit addition), <c>sortN</c> (sorting N digits) or <c>elicit2</c> (<see cref="ElicitationTask"/>).</summary>
    public static VerifiableTask Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == ElicitationTask.TaskName) return new ElicitationTask();
        if (name.StartsWith("add", StringComparison.Ordinal) && int.TryParse(name.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out int digits))
            return new AdditionTask(digits);
        if (name.StartsWith("sort", StringComparison.Ordinal) && int.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out int length))
            return new SortingTask(length);
        throw new ArgumentException($"Unknown task \"{name}\": use addN (N-digit addition, N in 1..4), sortN (sort N digits, N in 2..6) or elicit2 (2-digit addition in formats C/N/U, RL on U).", nameof(name));
    }

    /// <summary>Checks that a completion has the answer's length and only the given characters.</summary>
    protected bool IsWellFormed(string completion, string allowed) =>
        completion.Length == AnswerLength && completion.All(c => allowed.Contains(c, StringComparison.Ordinal));
}

/// <summary>
/// N-digit addition written as <c>07+35=</c> with the sum zero-padded to N+1 digits and written least significant digit
/// first (<c>240</c> for 42), the order in which carries are computed.
/// </summary>
public sealed class AdditionTask : VerifiableTask
{
    private readonly long _modulus;

    /// <summary>Addition of two numbers of <paramref name="digits"/> digits each (1 to 4).</summary>
    public AdditionTask(int digits)
    {
        if (digits is < 1 or > 4) throw new ArgumentOutOfRangeException(nameof(digits), digits, "Addition supports 1 to 4 digits.");
        Digits = digits;
        _modulus = (long)Math.Pow(10, digits);
    }

    /// <summary>Digits of each operand.</summary>
    public int Digits { get; }

    /// <inheritdoc/>
    public override string Name => $"add{Digits}";

    /// <inheritdoc/>
    public override string Alphabet => "0123456789+=";

    /// <inheritdoc/>
    public override int PromptLength => 2 * Digits + 2;

    /// <inheritdoc/>
    public override int AnswerLength => Digits + 1;

    /// <inheritdoc/>
    public override long ProblemCount => _modulus * _modulus;

    /// <inheritdoc/>
    public override Problem Get(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, ProblemCount);
        long a = id / _modulus, b = id % _modulus;
        string format = new('0', Digits);
        string prompt = a.ToString(format, CultureInfo.InvariantCulture) + "+" + b.ToString(format, CultureInfo.InvariantCulture) + "=";
        return new Problem(id, prompt, Reversed((a + b).ToString(new string('0', Digits + 1), CultureInfo.InvariantCulture)));
    }

    /// <summary>The sum a completion states (digits least significant first), or null when it is not a well-formed answer.</summary>
    public long? ParseSum(string completion) =>
        IsWellFormed(completion, "0123456789") ? long.Parse(Reversed(completion), CultureInfo.InvariantCulture) : null;

    /// <inheritdoc/>
    public override double Reward(Problem problem, string completion)
    {
        ArgumentNullException.ThrowIfNull(problem);
        long a = problem.Id / _modulus, b = problem.Id % _modulus;
        return ParseSum(completion) == a + b ? 1.0 : 0.0;
    }

    private static string Reversed(string s) => string.Create(s.Length, s, (span, source) =>
    {
        for (int i = 0; i < span.Length; i++) span[i] = source[source.Length - 1 - i];
    });
}

/// <summary>Sorting N digits: <c>3142&gt;</c> asks for <c>1234</c>.</summary>
public sealed class SortingTask : VerifiableTask
{
    /// <summary>Sorting lists of <paramref name="length"/> digits (2 to 6).</summary>
    public SortingTask(int length)
    {
        if (length is < 2 or > 6) throw new ArgumentOutOfRangeException(nameof(length), length, "Sorting supports lists of 2 to 6 digits.");
        Length = length;
    }

    /// <summary>Digits in each list.</summary>
    public int Length { get; }

    /// <inheritdoc/>
    public override string Name => $"sort{Length}";

    /// <inheritdoc/>
    public override string Alphabet => "0123456789>";

    /// <inheritdoc/>
    public override int PromptLength => Length + 1;

    /// <inheritdoc/>
    public override int AnswerLength => Length;

    /// <inheritdoc/>
    public override long ProblemCount => (long)Math.Pow(10, Length);

    /// <inheritdoc/>
    public override Problem Get(long id)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(id);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(id, ProblemCount);
        string list = id.ToString(new string('0', Length), CultureInfo.InvariantCulture);
        char[] sorted = list.ToCharArray();
        Array.Sort(sorted);
        return new Problem(id, list + ">", new string(sorted));
    }

    /// <inheritdoc/>
    public override double Reward(Problem problem, string completion)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return IsWellFormed(completion, "0123456789") && completion == problem.Answer ? 1.0 : 0.0;
    }
}
