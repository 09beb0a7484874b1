using System.Diagnostics.Metrics;
using System.Text.Json;
using AlphaRl.Checkpoints;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Jumps;
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
    /// at the same step, and load them before <see cref="AlphaRL.Resume"/>.
    /// </summary>
    /// <param name="folder">The folder to create.</param>
    /// <param name="overwrite">Replace the folder when it exists (the old one is removed only after the new one is complete).</param>
    /// <exception cref="AlphaRlException">The folder exists and <paramref name="overwrite"/> is false, or a state tensor cannot be saved.</exception>
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
        Log.Saved(_logger, folder, _lastStep);
    }

    private void WriteState(string path)
    {
        var tensors = new List<(string, Tensor)>();
        var wrapped = new List<Tensor>(); // made here for writing, disposed after it; the session's own tensors stay
        Tensor Wrap(float[] values)
        {
            var t = tensor(values);
            wrapped.Add(t);
            return t;
        }
        foreach (var m in _tracker.Covered) tensors.Add(($"base/{m.Name}", _tracker.Base[m.Name]));
        var window = new List<SnapshotEntry>();
        var steps = _tracker.Steps;
        for (int k = 0; k < steps.Count; k++)
        {
            var sigma = new float[_tracker.Covered.Count];
            var norm = new float[_tracker.Covered.Count];
            for (int i = 0; i < _tracker.Covered.Count; i++)
            {
                string name = _tracker.Covered[i].Name;
                var s = _tracker.Snapshots(name)[k];
                sigma[i] = s.Sigma;
                norm[i] = s.UpdateNorm;
                tensors.Add(($"window/{k}/u/{name}", Wrap(s.U)));
                tensors.Add(($"window/{k}/v/{name}", Wrap(s.V)));
            }
            window.Add(new SnapshotEntry(steps[k], sigma, norm));
        }
        var bases = _sketch.Bases;
        for (int i = 0; i < bases.Count; i++) tensors.Add(($"sketch/c0/{_tracker.Covered[i].Name}", bases[i]));
        var sketches = _sketch.Sketches;
        for (int k = 0; k < sketches.Count; k++)
            for (int i = 0; i < sketches[k].P.Length; i++)
                tensors.Add(($"sketch/{k}/{_tracker.Covered[i].Name}", Wrap(sketches[k].P[i])));
        var methods = new List<MethodEntry>();
        for (int i = 0; i < _methods.Count; i++)
        {
            var state = new MethodState();
            ((JumpMethodBase)_methods[i]).Save(state);
            methods.Add(new MethodEntry(_methods[i].Name, state.Scalars));
            foreach (var (key, t) in state.Tensors) tensors.Add(($"methods/{i}/{key}", t));
        }
        try
        {
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
            StartStep = _start,
            LastStep = _lastStep,
            StepsSkipped = _skipped,
            WindowStartTrained = _windowStartTrained,
            WindowStartEffective = _windowStartEffective,
            SnapshotsSinceAttempt = _snapshotsSinceAttempt,
            Evaluations = _evaluations,
            OverheadSeconds = OverheadTime.TotalSeconds,
            MissedSnapshotWarned = _missedSnapshotWarned,
            CustomExtrapolator = _options.Extrapolator?.Name,
            CustomCover = _options.Cover is not null,
            Covered = _tracker.Covered.Select(m => new CoveredEntry(m.Name, [m.Rows, m.Cols], StateTensors.DTypeName(m.DType))).ToList(),
            CoveredWeightsSha256 = CoveredWeightsHash(),
            Window = window,
            SketchSteps = sketches.Select(s => s.Step).ToList(),
            Methods = methods,
        };
        SessionStateFiles.Write(Path.Combine(path, SessionStateFiles.StateFile), document);
        SessionStateFiles.Write(Path.Combine(path, SessionStateFiles.SettingsFile), _options);
        SessionStateFiles.Write(Path.Combine(path, SessionStateFiles.JumpsFile), _jumps);
    }

    /// <summary>Settings that shape the saved state: a resumed session must have the same.</summary>
    private static readonly (string Name, Func<AlphaRLOptions, object?> Value)[] StateSettings =
    [
        (nameof(AlphaRLOptions.SnapshotInterval), o => o.SnapshotInterval),
        (nameof(AlphaRLOptions.MinSnapshots), o => o.MinSnapshots),
        (nameof(AlphaRLOptions.MaxSnapshots), o => o.MaxSnapshots),
        (nameof(AlphaRLOptions.Schedule), o => o.Schedule),
        (nameof(AlphaRLOptions.Methods), o => o.Methods.Count > 0 ? o.Methods : AlphaRLOptions.DefaultMethods()),
        (nameof(AlphaRLOptions.Uncovered), o => o.Uncovered),
    ];

    internal static AlphaRLSession Resume(nn.Module policy, string folder, AlphaRLOptions? options, ILogger? logger, IMeterFactory? meterFactory, string? name)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (!Directory.Exists(folder))
            throw new AlphaRlException($"{folder}: no saved AlphaRL session there (the folder does not exist).");
        var document = SessionStateFiles.Read<SessionStateDocument>(folder, SessionStateFiles.StateFile);
        if (document.Format != SessionStateFiles.Format)
            throw new AlphaRlException($"{folder}: {SessionStateFiles.StateFile} has format \"{document.Format}\", not \"{SessionStateFiles.Format}\".");
        if (document.Version != SessionStateFiles.Version)
            throw new AlphaRlException($"{folder}: saved with state format version {document.Version}; this AlphaRL reads version {SessionStateFiles.Version}.");
        var saved = SessionStateFiles.Read<AlphaRLOptions>(folder, SessionStateFiles.SettingsFile);
        if (options is null)
        {
            if (document.CustomExtrapolator is { } fit)
                throw new AlphaRlException($"{folder}: the session used a custom extrapolator ('{fit}'), which cannot be saved; pass the options (with that extrapolator) to Resume.");
            if (document.CustomCover)
                throw new AlphaRlException($"{folder}: the session used a custom AlphaRLOptions.Cover predicate, which cannot be saved; pass the options to Resume.");
            options = saved;
        }
        else
        {
            var mismatches = StateSettings
                .Select(s => (s.Name, Saved: JsonSerializer.Serialize(s.Value(saved), SessionStateFiles.Json), Given: JsonSerializer.Serialize(s.Value(options), SessionStateFiles.Json)))
                .Where(s => s.Saved != s.Given)
                .Select(s => $"AlphaRLOptions.{s.Name} is {Compact(s.Saved)} in the saved state and {Compact(s.Given)} in the options given")
                .ToList();
            if (options.StartStep is { } start && start != document.StartStep)
                mismatches.Add($"AlphaRLOptions.StartStep is {start} in the options given but the saved session started at {document.StartStep?.ToString() ?? "an unknown step (no Step yet)"}");
            if (mismatches.Count > 0)
                throw new AlphaRlException($"{folder}: the options do not match the saved session's: {string.Join("; ", mismatches)}.");
            options = options.Clone();
        }
        options.StartStep = null;

        var session = new AlphaRLSession(policy, options, logger, null, meterFactory, name ?? document.Name);
        try
        {
            session.Restore(folder, document);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        Log.Resumed(session._logger, folder, session._lastStep, session.SessionStart, session._tracker.Steps.Count, session._jumps.Count);
        return session;
    }

    /// <summary>SHA-256 of the covered parameters' current bytes, in order: tells at resume whether the policy was loaded.</summary>
    private string CoveredWeightsHash()
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var m in _tracker.Covered)
        {
            using var scope = NewDisposeScope();
            sha.AppendData(m.Parameter.detach().cpu().contiguous().bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    private static string Compact(string json) => JsonSerializer.Serialize(JsonSerializer.Deserialize<JsonElement>(json));

    private void Restore(string folder, SessionStateDocument document)
    {
        // The policy must hold the same covered matrices: names, order, shapes, dtypes.
        var live = _tracker.Covered.Select(m => new CoveredEntry(m.Name, [m.Rows, m.Cols], StateTensors.DTypeName(m.DType))).ToList();
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
            throw new AlphaRlException($"{folder}: the saved session does not match this policy: {string.Join("; ", problems)}.");
        if (document.Methods.Select(m => m.Name).SequenceEqual(_methods.Select(m => m.Name)) is false)
            throw new AlphaRlException($"{folder}: the saved session's jump methods are [{string.Join(", ", document.Methods.Select(m => m.Name))}]; this session's are [{string.Join(", ", _methods.Select(m => m.Name))}].");

        string tensorsPath = Path.Combine(folder, SessionStateFiles.TensorsFile);
        if (!File.Exists(tensorsPath))
            throw new AlphaRlException($"{folder}: not a saved AlphaRL session: {SessionStateFiles.TensorsFile} is missing.");
        Dictionary<string, Tensor> tensors;
        try
        {
            tensors = StateTensors.Read(tensorsPath);
        }
        catch (CheckpointFormatException e)
        {
            throw new AlphaRlException($"{tensorsPath}: not a valid safetensors file ({e.Message}).", e);
        }
        try
        {
            Tensor Get(string key) => tensors.TryGetValue(key, out var t) ? t : throw new AlphaRlException($"{tensorsPath}: tensor '{key}' is missing.");
            foreach (var m in _tracker.Covered) _tracker.Base.Restore(m.Name, Get($"base/{m.Name}"));
            _tracker.Clear();
            for (int k = 0; k < document.Window.Count; k++)
            {
                var w = document.Window[k];
                for (int i = 0; i < _tracker.Covered.Count; i++)
                {
                    string name = _tracker.Covered[i].Name;
                    var u = Get($"window/{k}/u/{name}").data<float>().ToArray();
                    var v = Get($"window/{k}/v/{name}").data<float>().ToArray();
                    _tracker.Restore(name, new Rank1Snapshot(w.Step, w.Sigma[i], u, v, w.UpdateNorm[i]));
                }
            }
            var bases = _tracker.Covered.Select(m => Get($"sketch/c0/{m.Name}")).ToList();
            var sketches = document.SketchSteps.Select((step, k) =>
                (step, _tracker.Covered.Select(m => Get($"sketch/{k}/{m.Name}").data<float>().ToArray()).ToArray())).ToList();
            _sketch.Restore(bases, sketches);
            for (int i = 0; i < _methods.Count; i++)
            {
                string prefix = $"methods/{i}/";
                var state = new MethodState
                {
                    Scalars = document.Methods[i].Scalars,
                    Tensors = tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal),
                };
                ((JumpMethodBase)_methods[i]).Load(state);
            }
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }

        _start = document.StartStep;
        _lastStep = document.LastStep;
        _skipped = document.StepsSkipped;
        _windowStartTrained = document.WindowStartTrained;
        _windowStartEffective = document.WindowStartEffective;
        _snapshotsSinceAttempt = document.SnapshotsSinceAttempt;
        _evaluations = document.Evaluations;
        _overheadBefore = TimeSpan.FromSeconds(document.OverheadSeconds);
        _missedSnapshotWarned = document.MissedSnapshotWarned;
        _jumps.Clear();
        _jumps.AddRange(SessionStateFiles.Read<List<JumpOutcome>>(folder, SessionStateFiles.JumpsFile));
        if (document.CoveredWeightsSha256 is { } saved && saved != CoveredWeightsHash())
            Log.WeightsDiffer(_logger, folder, document.LastStep);
    }
}
