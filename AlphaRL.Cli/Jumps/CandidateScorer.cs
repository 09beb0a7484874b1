using System.Diagnostics;
using System.Globalization;

namespace AlphaRl.Cli;

/// <summary>What a score command said of a candidate: the score and any secondary metrics (<c>NAME=VALUE</c> after it).</summary>
internal sealed record CandidateScore(double Score, IReadOnlyDictionary<string, double> Metrics)
{
    /// <summary>The metric that carries the score's standard error, for the guard's noise margin (<c>--noise-z</c>).</summary>
    public const string StandardErrorMetric = "se";

    /// <summary>The score's standard error (the <c>se</c> metric), 0 when not printed.</summary>
    public double StandardError => Metrics.TryGetValue(StandardErrorMetric, out double se) ? se : 0;
}

/// <summary>
/// Runs the user's <c>--score-command</c> on a candidate folder: the folder is appended as the last argument and set in
/// <c>ALPHARL_CANDIDATE</c>; the last non-empty line of standard output is the score (higher is better), optionally
/// followed by secondary metrics as <c>NAME=VALUE</c> (e.g. <c>0.71 format_c=0.985</c>) for <c>--floor</c>, and by the
/// score's standard error as <c>se=VALUE</c> for <c>--noise-z</c>.
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
            if (name == CandidateScore.StandardErrorMetric && value < 0)
            {
                problem = $"a negative standard error '{token}'";
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
            ?? throw new AlphaRLException($"--score-command could not be started for candidate {candidate}: '{command}'.");
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
            throw new AlphaRLException($"--score-command timed out after {timeout.TotalSeconds:0.###} s on candidate {candidate} ({said}); nothing was written.");
        if (process.ExitCode != 0)
            throw new AlphaRLException($"--score-command failed on candidate {candidate}: exit code {process.ExitCode}, {said}; nothing was written.");
        return Parse(last, out string? problem)
            ?? throw new AlphaRLException($"--score-command printed {problem} for candidate {candidate} (exit code 0, {said}); nothing was written.");
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
