using System.Diagnostics;
using System.Globalization;

namespace AlphaRl.Cli;

/// <summary>Which weights <c>predict</c> writes for a target step.</summary>
internal enum JumpMethod
{
    /// <summary>The paper's jump: per covered matrix, the rank-1 line x_t = s1 u1 against the step (the default).</summary>
    Rank1,

    /// <summary>W_e + (T − e)·b with b the per-weight least-squares slope over the window checkpoints.</summary>
    Velocity,

    /// <summary>W_e + (T − e)/(e − base)·(W_e − W0): the whole update's direction (ExPO's form).</summary>
    Direction,
}

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
                double offset = Math.Round(j * window, MidpointRounding.AwayFromZero);
                if (offset > long.MaxValue / 2 - last)
                    throw new UsageException($"--lengths value {FormatLength(j)} jumps beyond any step (window length {window}).");
                list.Add(new Candidate(j, last + (long)offset, NoJump: j == 0));
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
            if (!double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double j) || !double.IsFinite(j) || j < 0)
                throw new UsageException($"--lengths value '{item}' must be a finite number ≥ 0 (multiples of the window length), e.g. --lengths 0,0.5,1,2.");
            lengths.Add(j);
        }
        return lengths;
    }
}

/// <summary>What a score command said of a candidate: the score and any secondary metrics (<c>NAME=VALUE</c> after it).</summary>
internal sealed record CandidateScore(double Score, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// Runs the user's <c>--score-command</c> on a candidate folder: the folder is appended as the last argument and set in
/// <c>ALPHARL_CANDIDATE</c>; the last non-empty line of standard output is the score (higher is better), optionally
/// followed by secondary metrics as <c>NAME=VALUE</c> (e.g. <c>0.71 format_c=0.985</c>) for <c>--floor</c>.
/// </summary>
internal static class CandidateScorer
{
    public const string CandidateVariable = "ALPHARL_CANDIDATE";

    /// <summary>Parses a score line: a finite number, then NAME=VALUE pairs of finite numbers; null with the reason when it is not one.</summary>
    public static CandidateScore? Parse(string line, out string? problem)
    {
        problem = null;
        string[] tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length == 0 || !double.TryParse(tokens[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double score) || !double.IsFinite(score))
        {
            problem = "no finite number as its last line";
            return null;
        }
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string token in tokens.Skip(1))
        {
            if (!TryParseMetric(token, out string name, out double value))
            {
                problem = $"'{token}' after the score, where NAME=VALUE with a finite VALUE was expected";
                return null;
            }
            if (!metrics.TryAdd(name, value))
            {
                problem = $"the metric '{name}' twice";
                return null;
            }
        }
        return new CandidateScore(score, metrics);
    }

    /// <summary>Parses <c>NAME=VALUE</c>: a non-empty name and a finite number in invariant culture (a score line's metric, a <c>--floor</c>).</summary>
    public static bool TryParseMetric(string text, out string name, out double value)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        name = eq > 0 ? text[..eq] : "";
        value = double.NaN;
        return eq > 0 && double.TryParse(text.AsSpan(eq + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    public static CandidateScore Score(string command, string folder, string candidate, TimeSpan timeout, CancellationToken cancellation)
    {
        var start = OperatingSystem.IsWindows()
            ? new ProcessStartInfo("cmd.exe") { Arguments = $"/d /s /c \"{command} \"{folder}\"\"" }
            // The folder goes in as $1, so that no character of its path is interpreted by the shell.
            : new ProcessStartInfo("/bin/sh") { ArgumentList = { "-c", command + " \"$1\"", "alpharl-score", folder } };
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment[CandidateVariable] = folder;
        using var process = Process.Start(start)
            ?? throw new AlphaRlException($"--score-command could not be started for candidate {candidate}: '{command}'.");
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var errors = process.StandardError.ReadToEndAsync(CancellationToken.None);
        bool exited;
        using (cancellation.Register(() => Kill(process)))
            exited = process.WaitForExit(timeout);
        if (!exited) Kill(process);
        process.WaitForExit();
        cancellation.ThrowIfCancellationRequested();
        string last = LastLine(output.GetAwaiter().GetResult());
        string lastError = LastLine(errors.GetAwaiter().GetResult());
        string said = $"last line of output '{last}'" + (lastError.Length > 0 ? $", of errors '{lastError}'" : "");
        if (!exited)
            throw new AlphaRlException($"--score-command timed out after {timeout.TotalSeconds:0.###} s on candidate {candidate} ({said}); nothing was written.");
        if (process.ExitCode != 0)
            throw new AlphaRlException($"--score-command failed on candidate {candidate}: exit code {process.ExitCode}, {said}; nothing was written.");
        return Parse(last, out string? problem)
            ?? throw new AlphaRlException($"--score-command printed {problem} for candidate {candidate} (exit code 0, {said}); nothing was written.");
    }

    private static string LastLine(string text) =>
        text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0) ?? "";

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited in between.
        }
    }
}
