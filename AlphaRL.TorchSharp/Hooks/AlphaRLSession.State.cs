using System.Text.Json;
using AlphaRl.Checkpoints;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Session;
using AlphaRl.TorchSharp.State;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

public sealed partial class AlphaRLSession
{
    /// <summary>
    /// Saves the session's whole state to <paramref name="folder"/>: W0 of the covered matrices, the window's snapshots and
    /// sketches, the jump methods' state, the counters, the jump history and the effective settings (the format is in
    /// docs/long-runs.md). Atomic: everything is written to a hidden temporary folder beside it, which is then renamed,
    /// so the folder exists only when complete. The policy's own weights are not saved: checkpoint them as the run does,
    /// at the same step, and load them before <see cref="AlphaRL.Resume(nn.Module, string, AlphaRLOptions?, Microsoft.Extensions.Logging.ILogger?)"/>.
    /// </summary>
    /// <param name="folder">The folder to create.</param>
    /// <param name="overwrite">Replace the folder when it exists (the old one is removed only after the new one is complete).</param>
    /// <exception cref="AlphaRLException">The folder exists and <paramref name="overwrite"/> is false, or a state tensor cannot be saved.</exception>
    public void Save(string folder, bool overwrite = false)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        string? previous = null;
        if (Directory.Exists(full) && overwrite)
        {
            previous = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.alpharl-old-{Guid.NewGuid():N}");
        }
        using (var staging = StagingFolder.Create(previous is null ? full : full + $".alpharl-new-{Guid.NewGuid():N}"))
        {
            WriteState(staging.Path);
            if (previous is null) staging.Commit();
            else
            {
                // Swap: the old folder moves aside, the complete new one takes its name, then the old one goes.
                Directory.Move(full, previous);
                Directory.Move(staging.Path, full);
                Directory.Delete(previous, recursive: true);
            }
        }
        Log.Saved(_logger, folder, LastStep);
    }

    private void WriteState(string path)
    {
        var tensors = new List<(string, Tensor)>();
        var wrapped = new List<Tensor>(); // made here for writing, disposed after it; the session's own tensors stay
        WindowState window;
        try
        {
            window = _window.Save(tensors, wrapped);
            StateTensors.Write(Path.Combine(path, SessionStateFiles.TensorsFile), tensors);
        }
        finally
        {
            foreach (var t in wrapped) t.Dispose();
        }
        var document = new SessionStateDocument
        {
            Name = Name,
            SavedAt = DateTimeOffset.UtcNow,
            StepsSkipped = _skipped,
            Evaluations = _evaluations,
            OverheadSeconds = OverheadTime.TotalSeconds,
            CustomExtrapolator = _services.Extrapolator?.Name,
            CustomCover = _services.Cover is not null,
            Covered = _window.Tracker.Covered.Select(m => new CoveredEntry(m.Name, [m.Rows, m.Cols], StateTensors.DTypeName(m.DType))).ToList(),
            CoveredWeightsSha256 = CoveredWeightsHash(),
            Clock = _clock.Save(),
            Window = window,
            Schedule = _schedule.Save(),
        };
        SessionStateFiles.Write(Path.Combine(path, SessionStateFiles.StateFile), document);
        SessionStateFiles.Write(Path.Combine(path, SessionStateFiles.SettingsFile), _options);
        SessionStateFiles.Write(Path.Combine(path, SessionStateFiles.JumpsFile), _jumps);
    }

    /// <summary>Settings that shape the saved state: a resumed session must have the same.</summary>
    private static readonly (string Name, Func<AlphaRLOptions, object?> Value)[] StateSettings =
    [
        ("Snapshots.Interval", o => o.Snapshots.Interval),
        ("Snapshots.Max", o => o.Snapshots.Max),
        ("Attempts.MinSnapshots", o => o.Attempts.MinSnapshots),
        ("Attempts.Schedule", o => o.Attempts.Schedule),
        ("Jumps.Methods", o => o.Jumps.Effective),
    ];

    internal static AlphaRLSession Resume(nn.Module policy, string folder, AlphaRLOptions? options, SessionServices? services, string? name)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
            throw new AlphaRLException($"{folder}: no saved AlphaRL session there (the folder does not exist).");
        var (document, saved) = SessionStateFiles.ReadSession(folder);
        if (options is null)
        {
            if (document.CustomExtrapolator is { } fit && services?.Extrapolator is null)
                throw new AlphaRLException($"{folder}: the session used a custom extrapolator ('{fit}'), which cannot be saved; pass it again in SessionServices.Extrapolator.");
            if (document.CustomCover && services?.Cover is null)
                throw new AlphaRLException($"{folder}: the session used a custom coverage predicate, which cannot be saved; pass it again in SessionServices.Cover.");
            options = saved;
        }
        else
        {
            var mismatches = StateSettings
                .Select(s => (s.Name, Saved: JsonSerializer.Serialize(s.Value(saved), SessionStateFiles.Json), Given: JsonSerializer.Serialize(s.Value(options), SessionStateFiles.Json)))
                .Where(s => s.Saved != s.Given)
                .Select(s => $"AlphaRLOptions.{s.Name} is {Compact(s.Saved)} in the saved state and {Compact(s.Given)} in the options given")
                .ToList();
            if (options.Snapshots.StartStep is { } start && start != document.Clock.StartStep)
                mismatches.Add($"AlphaRLOptions.Snapshots.StartStep is {start} in the options given but the saved session started at {document.Clock.StartStep?.ToString() ?? "an unknown step (no Step yet)"}");
            if (mismatches.Count > 0)
                throw new AlphaRLException($"{folder}: the options do not match the saved session's: {string.Join("; ", mismatches)}.");
            options = options.Clone();
        }
        options.Snapshots.StartStep = null;

        var session = new AlphaRLSession(policy, options, services, name ?? document.Name);
        try
        {
            session.Restore(folder, document);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        Log.Resumed(session._logger, folder, session.LastStep, session.SessionStart, session._window.Count, session._jumps.Count);
        return session;
    }

    /// <summary>SHA-256 of the covered parameters' current bytes, in order: tells at resume whether the policy was loaded.</summary>
    private string CoveredWeightsHash()
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var m in _window.Tracker.Covered)
        {
            using var scope = NewDisposeScope();
            sha.AppendData(m.Parameter.detach().cpu().contiguous().bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static string Compact(string json) => JsonSerializer.Serialize(JsonSerializer.Deserialize<JsonElement>(json));

    /// <summary>
    /// Loads the saved state into this new session, part by part. Any failure throws before the session is handed out
    /// (Resume disposes it), so no half-restored session is ever used.
    /// </summary>
    private void Restore(string folder, SessionStateDocument document)
    {
        // The policy must hold the same covered matrices: names, order, shapes, dtypes.
        var live = _window.Tracker.Covered.Select(m => new CoveredEntry(m.Name, [m.Rows, m.Cols], StateTensors.DTypeName(m.DType))).ToList();
        var problems = new List<string>();
        foreach (var s in document.Covered)
        {
            var l = live.FirstOrDefault(x => x.Name == s.Name);
            if (l is null) problems.Add($"'{s.Name}' was covered but is not covered in this policy");
            else if (!l.Shape.SequenceEqual(s.Shape)) problems.Add($"'{s.Name}' was [{string.Join(", ", s.Shape)}] and is [{string.Join(", ", l.Shape)}]");
            else if (l.DType != s.DType) problems.Add($"'{s.Name}' was {s.DType} and is {l.DType}");
        }
        foreach (var l in live.Where(l => document.Covered.All(s => s.Name != l.Name)))
            problems.Add($"'{l.Name}' is covered in this policy but was not in the saved session");
        if (problems.Count == 0 && !live.Select(l => l.Name).SequenceEqual(document.Covered.Select(s => s.Name)))
            problems.Add("the covered matrices come in a different order");
        if (problems.Count > 0)
            throw new AlphaRLException($"{folder}: the saved session does not match this policy: {string.Join("; ", problems)}.");

        string tensorsPath = Path.Combine(folder, SessionStateFiles.TensorsFile);
        if (!File.Exists(tensorsPath))
            throw new AlphaRLException($"{folder}: not a saved AlphaRL session: {SessionStateFiles.TensorsFile} is missing.");
        Dictionary<string, Tensor> tensors;
        try
        {
            tensors = StateTensors.Read(tensorsPath);
        }
        catch (CheckpointFormatException e)
        {
            throw new AlphaRLException($"{tensorsPath}: not a valid safetensors file ({e.Message}).", e);
        }
        try
        {
            Tensor Get(string key) => tensors.TryGetValue(key, out var t) ? t : throw new AlphaRLException($"{SessionStateFiles.TensorsFile} has no tensor '{key}'.");
            try
            {
                _window.Load(document.Window, Get, tensors);
            }
            catch (AlphaRLException e)
            {
                throw new AlphaRLException($"{folder}: {e.Message}", e);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
        _clock.Load(document.Clock);
        _schedule.Load(document.Schedule);
        _skipped = document.StepsSkipped;
        _evaluations = document.Evaluations;
        _overheadBefore = TimeSpan.FromSeconds(document.OverheadSeconds);
        _jumps.Clear();
        _jumps.AddRange(SessionStateFiles.Read<List<JumpOutcome>>(folder, SessionStateFiles.JumpsFile));
        if (document.CoveredWeightsSha256 is { } hash && hash != CoveredWeightsHash())
            Log.WeightsDiffer(_logger, folder, document.Clock.LastStep);
    }
}
