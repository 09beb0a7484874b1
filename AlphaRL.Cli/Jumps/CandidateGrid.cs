using AlphaRl.Checkpoints;
using System.Globalization;
using Spectre.Console;

namespace AlphaRl.Cli;

/// <summary>
/// The candidates <c>predict</c> writes for <c>--lengths</c> or <c>--score-command</c>: written side by side into a
/// hidden temporary folder beside <c>--out</c>, scored there by the score command when given, and then the grid (or only
/// the best candidate) is renamed to <c>--out</c>. Shared by full checkpoints and LoRA adapters.
/// </summary>
internal sealed class CandidateGrid
{
    private readonly IReadOnlyList<Candidate> _candidates;
    private readonly double?[] _scores;
    private readonly IReadOnlyDictionary<string, double>?[] _metrics;
    private readonly bool?[] _meets;
    private readonly double[] _errors;
    private readonly PredictOptions _options;
    private int _kept = -1;

    private CandidateGrid(IReadOnlyList<Candidate> candidates, PredictOptions options)
    {
        _candidates = candidates;
        _options = options;
        _errors = new double[candidates.Count];
        _scores = new double?[candidates.Count];
        _metrics = new IReadOnlyDictionary<string, double>?[candidates.Count];
        _meets = new bool?[candidates.Count];
    }

    /// <summary>Writes the candidates (<paramref name="write"/> fills one folder per candidate, in their order, and
    /// reports progress in bytes), scores them when <see cref="PredictOptions.ScoreCommand"/> is given, and commits.</summary>
    public static CandidateGrid Write(PredictOptions options, IReadOnlyList<Candidate> candidates, long totalBytes, IAnsiConsole console,
        Action<IReadOnlyList<string>, Action<long>> write, CancellationToken cancellation)
    {
        var grid = new CandidateGrid(candidates, options);
        using var staging = StagingFolder.Create(options.Out);
        var folders = candidates.Select(c => Path.Combine(staging.Path, c.Folder)).ToList();
        ConsoleProgress.Run(console, $"writing {candidates.Count} candidates", totalBytes, advance => write(folders, advance));
        if (options.ScoreCommand is not { } command)
        {
            staging.Commit();
            return grid;
        }
        var timeout = TimeSpan.FromSeconds(options.ScoreTimeoutSeconds);
        for (int k = 0; k < candidates.Count; k++)
        {
            console.WriteLine($"Scoring candidate {candidates[k].Folder}...");
            var said = CandidateScorer.Score(command, folders[k], candidates[k].Folder, timeout, cancellation);
            (grid._scores[k], grid._metrics[k], grid._errors[k]) = (said.Score, said.Metrics, said.StandardError);
            if (options.Floors.Count > 0 && !candidates[k].NoJump) grid._meets[k] = MeetsFloors(said, options.Floors, candidates[k].Folder);
        }
        grid._kept = grid.Select();
        staging.Commit(candidates[grid._kept].Folder);
        return grid;
    }

    /// <summary>
    /// The hook's guard rule (<see cref="AlphaRl.Jumps.GuardRule"/>): the best jump candidate meeting the floors, the
    /// shortest among equal scores, kept iff no worse than W_e beyond the tolerance and noise; otherwise W_e.
    /// </summary>
    private int Select()
    {
        int before = -1, best = -1;
        for (int k = 0; k < _candidates.Count; k++)
        {
            if (_candidates[k].NoJump) before = k;
            else if (_meets[k] != false && AlphaRl.Jumps.GuardRule.Beats(_scores[k]!.Value, best < 0 ? null : _scores[best])) best = k;
        }
        return best >= 0 && AlphaRl.Jumps.GuardRule.NoWorse(_scores[before]!.Value, _errors[before], _scores[best]!.Value, _errors[best], _options.Tolerance, _options.NoiseZ)
            ? best : before;
    }

    /// <summary>The candidates as the report gives them: length, target step, folder, score and whether kept.</summary>
    public List<CandidateReport> Reports() => _candidates.Select((c, k) => new CandidateReport(c.Length, c.TargetStep, c.Folder, c.NoJump, _scores[k], k == _kept)
        { Metrics = _metrics[k] is { Count: > 0 } m ? m : null, MeetsFloors = _meets[k] }).ToList();

    /// <summary>Prints the candidates table and what was written (<paramref name="what"/>: the method; <paramref name="from"/>: the steps).</summary>
    public void Describe(IAnsiConsole console, IReadOnlyList<CandidateReport> reports, string output, long first, long last, string what, string from)
    {
        bool scoring = _kept >= 0;
        Report.RenderCandidates(console, reports, scoring);
        if (!scoring)
            console.WriteLine($"Wrote {_candidates.Count} candidates under {output} ({what}), {from}, window length L = {last - first}; " +
                "nothing was chosen (give --score-command to keep the best).");
        else if (_candidates[_kept].NoJump)
            console.WriteLine($"No jump scored at least as well as W_e (step {last}, score {_scores[_kept]:G6}; tolerance {_options.Tolerance:G6}, noise z {_options.NoiseZ:G6}): " +
                $"the extrapolation did not help. Wrote W_e to {output}; the other candidates were deleted.");
        else
            console.WriteLine($"Kept j = {Candidate.FormatLength(_candidates[_kept].Length ?? double.NaN)} (step {_candidates[_kept].TargetStep}, score {_scores[_kept]:G6}; " +
                $"W_e scored {_scores[_candidates.ToList().FindIndex(c => c.NoJump)]:G6}) as {output} ({what}); the other candidates were deleted.");
    }

    /// <summary>Whether each floored metric is at or above its floor; a floored metric the command did not print is an error.</summary>
    private static bool MeetsFloors(CandidateScore score, IReadOnlyDictionary<string, double> floors, string candidate)
    {
        bool meets = true;
        foreach (var (name, floor) in floors)
        {
            if (!score.Metrics.TryGetValue(name, out double value))
                throw new AlphaRLException($"--score-command printed no metric '{name}' for candidate {candidate}, which --floor {name}={floor.ToString(CultureInfo.InvariantCulture)} needs: print it after the score, e.g. '0.71 {name}=0.985'; nothing was written.");
            meets &= value >= floor;
        }
        return meets;
    }
}
