using AlphaRl.Workloads.Tasks;

namespace AlphaRl.Workloads.Evaluation;

/// <summary>
/// Quality that counts forgetting, for RL on format U of the elicitation base: the task's exact expected reward minus
/// <see cref="Penalty"/> times the loss of format-C reward beyond <see cref="Allowance"/> of the base's. It is a steep,
/// continuous form of "format C stays within 2% of the base's", so a guard can score it and a curve can be read from it.
/// </summary>
public static class ForgettingQuality
{
    /// <summary>Share of the base's format-C reward that may be lost before quality pays for it.</summary>
    public const double Allowance = 0.02;

    /// <summary>
    /// What a point of format-C reward lost beyond the allowance costs, in points of task reward. At 1 (tried first, on
    /// one development seed) forgetting was nearly free: 100x the base rate lost 8% of C and still scored best.
    /// </summary>
    public const double Penalty = 10;

    /// <summary>The quality of weights with task reward <paramref name="task"/> and format-C reward <paramref name="retained"/>, the base's being <paramref name="retained0"/>.</summary>
    public static double Score(double task, double retained, double retained0) =>
        task - Penalty * Math.Max(0, (1 - Allowance) * retained0 - retained);

    /// <summary>The same pairs as <paramref name="problems"/>, prompted in format C (the skill the base already had).</summary>
    public static IReadOnlyList<Problem> InFormatC(ElicitationTask task, IReadOnlyList<Problem> problems)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(problems);
        return problems.Select(p => new Problem(p.Id, task.Prompt(PromptFormat.C, p.Id), task.CorrectAnswer(p.Id))).ToList();
    }
}
