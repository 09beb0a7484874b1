using System.Globalization;
using AlphaRl.Jumps;

namespace AlphaRl.Cli;

/// <summary>One checkpoint <c>predict</c> writes.</summary>
/// <param name="Length">Jump length j in window lengths after the last checkpoint (null when the window has no length).</param>
/// <param name="TargetStep">Step the weights are predicted for.</param>
/// <param name="NoJump">The candidate is W_e itself, copied byte for byte (jump length 0 of a grid, or the baseline a score is compared with).</param>
internal sealed record Candidate(double? Length, long TargetStep, bool NoJump)
{
    /// <summary>Folder name of the candidate, e.g. <c>j0.5-step150</c>.</summary>
    public string Folder => Length is { } j ? $"j{FormatLength(j)}-step{TargetStep}" : $"step{TargetStep}";

    public static string FormatLength(double j) => j.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>The candidates for a window from step <paramref name="first"/> to <paramref name="last"/>: one per jump
    /// length (target e + j·L, rounded to the nearest step), or the single <paramref name="targetStep"/>; with scoring,
    /// W_e itself is added when no candidate is it. Ordered by target step.</summary>
    public static List<Candidate> Plan(IReadOnlyList<double>? lengths, long? targetStep, long first, long last, bool scoring)
    {
        long window = last - first;
        var list = new List<Candidate>();
        if (lengths is not null)
        {
            if (window <= 0)
                throw new UsageException($"--lengths needs at least two checkpoints: they are multiples of the window length L = e − s, which is 0 with one checkpoint (step {last}). Use --target-step.");
            foreach (double j in lengths)
            {
                if (JumpGeometry.Offset(j, window) > long.MaxValue / 2 - last)
                    throw new UsageException($"--lengths value {FormatLength(j)} jumps beyond any step (window length {window}).");
                list.Add(new Candidate(j, JumpGeometry.Target(last, first, j), NoJump: j == 0));
            }
        }
        else
        {
            long target = targetStep ?? throw new UsageException("Give --target-step or --lengths.");
            if (target < last)
                throw new UsageException($"--target-step {target} lies before the last checkpoint (step {last}); predict only jumps ahead.");
            list.Add(new Candidate(window > 0 ? (double)(target - last) / window : null, target, NoJump: false));
        }
        if (scoring && !list.Any(c => c.NoJump))
            list.Add(new Candidate(0, last, NoJump: true));
        foreach (var group in list.GroupBy(c => c.TargetStep).Where(g => g.Count() > 1))
            throw new UsageException(lengths is not null
                ? $"--lengths gives {group.Count()} candidates for step {group.Key} ({string.Join(", ", group.Select(c => FormatLength(c.Length!.Value)))}); give distinct lengths."
                : $"--target-step {group.Key} is the last checkpoint's step: the candidate would be W_e itself, nothing to score against it.");
        return list.OrderBy(c => c.TargetStep).ToList();
    }

    /// <summary>Parses <c>--lengths</c>: comma-separated finite numbers ≥ 0.</summary>
    public static List<double> ParseLengths(string text)
    {
        var lengths = new List<double>();
        foreach (string item in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double j) || JumpDefaults.CheckLength(j) is not null)
                throw new UsageException($"--lengths value '{item}' must be a finite number ≥ 0 (multiples of the window length), e.g. --lengths 0,0.5,1,2.");
            lengths.Add(j);
        }
        return lengths;
    }
}
