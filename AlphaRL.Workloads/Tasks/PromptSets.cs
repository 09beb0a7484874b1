namespace AlphaRl.Workloads.Tasks;

/// <summary>
/// The task's problems split three ways by a seeded hash of the problem index: training prompts, validation prompts
/// (for the guard and for choosing ExPO's alpha) and test prompts (every reported accuracy). The splits are disjoint:
/// training never samples a validation or test problem.
/// </summary>
public sealed class PromptSets
{
    private const int Buckets = 20; // 1 bucket test, 1 validation, 18 training
    private readonly ulong _seed;

    /// <summary>Splits <paramref name="task"/> under <paramref name="seed"/> and draws the fixed evaluation sets.</summary>
    /// <param name="task">The task.</param>
    /// <param name="seed">Seed of the split and of the evaluation sets.</param>
    /// <param name="validationSize">Validation problems at most.</param>
    /// <param name="testSize">Test problems at most.</param>
    public PromptSets(VerifiableTask task, int seed, int validationSize = 400, int testSize = 1000)
    {
        ArgumentNullException.ThrowIfNull(task);
        Task = task;
        _seed = (ulong)seed * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL;
        Validation = Draw(EvalSplit.Validation, validationSize, seed);
        Test = Draw(EvalSplit.Test, testSize, seed + 1);
    }

    /// <summary>The task.</summary>
    public VerifiableTask Task { get; }

    /// <summary>The validation problems.</summary>
    public IReadOnlyList<Problem> Validation { get; }

    /// <summary>The test problems.</summary>
    public IReadOnlyList<Problem> Test { get; }

    /// <summary>The problems of an evaluation split.</summary>
    public IReadOnlyList<Problem> this[EvalSplit split] => split == EvalSplit.Validation ? Validation : Test;

    /// <summary>Whether problem <paramref name="id"/> may be trained on.</summary>
    public bool IsTraining(long id) => Bucket(id) >= 2;

    /// <summary>A training problem drawn uniformly with <paramref name="random"/>.</summary>
    public Problem SampleTraining(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        while (true)
        {
            long id = random.NextInt64(Task.ProblemCount);
            if (IsTraining(id)) return Task.Get(id);
        }
    }

    private IReadOnlyList<Problem> Draw(EvalSplit split, int size, int seed)
    {
        int bucket = split == EvalSplit.Test ? 0 : 1;
        var random = new Random(seed);
        var chosen = new List<Problem>(size);
        var seen = new HashSet<long>();
        long expected = Task.ProblemCount / Buckets;
        if (expected <= 4L * size)
        {
            // Small task: enumerate the split, shuffle, take the first ones.
            var ids = new List<long>();
            for (long id = 0; id < Task.ProblemCount; id++) if (Bucket(id) == bucket) ids.Add(id);
            long[] shuffled = [.. ids];
            random.Shuffle(shuffled);
            return shuffled.Take(size).Select(Task.Get).ToList();
        }
        while (chosen.Count < size)
        {
            long id = random.NextInt64(Task.ProblemCount);
            if (Bucket(id) == bucket && seen.Add(id)) chosen.Add(Task.Get(id));
        }
        return chosen;
    }

    private int Bucket(long id)
    {
        ulong z = (ulong)id + _seed; // SplitMix64 finaliser
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) % Buckets);
    }
}
