using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using AlphaRl.Checkpoints;
using AlphaRl.Linalg;
using AlphaRl.Tracking;

namespace AlphaRl.Cli;

/// <summary>
/// A small folder beside a run holding, for every recorded checkpoint, the sign-aligned rank-1 snapshot of each covered
/// matrix (step, s1, u1, v1 and ‖dW‖_F): O(m + n) floats per matrix and checkpoint, so each checkpoint is read once in
/// the life of a run, and <c>analyze</c> and <c>predict</c> need only the store, W0 and the last checkpoint.
/// Layout: <c>store.json</c> (base, selection, matrices, recorded steps with their folders and fingerprints) and one
/// <c>step-N.safetensors</c> per step (F32 tensors <c>NAME/u</c>, <c>NAME/v</c> and <c>NAME/s</c> = [s1, ‖dW‖_F]).
/// Every file is written to a temporary name and renamed; a lock file keeps two recorders from racing.
/// </summary>
internal sealed class SnapshotStore
{
    public const string ManifestName = "store.json";
    private const string LockName = "store.lock";
    private static readonly Regex StepName = new(@"^(?:global_step|checkpoint|step|iter|ckpt)[-_]?(\d+)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

    private SnapshotStore(string directory, StoreManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
    }

    public string Directory { get; }
    public StoreManifest Manifest { get; }

    /// <summary>The training step a checkpoint folder's name gives (<c>global_step_N</c>, <c>checkpoint-N</c>, <c>step_N</c>...), or null.</summary>
    public static long? StepOf(string folder)
    {
        var m = StepName.Match(Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)));
        return m.Success && long.TryParse(m.Groups[1].Value, out long step) ? step : null;
    }

    /// <summary>Opens a store; throws when it does not exist or its manifest is unreadable.</summary>
    public static SnapshotStore Open(string directory)
    {
        string path = Path.Combine(directory, ManifestName);
        if (!File.Exists(path))
            throw new AlphaRLException($"{directory}: no snapshot store here ({ManifestName} is missing); create it with 'alpharl record CHECKPOINT --base BASE --store {directory}'.");
        return new SnapshotStore(directory, ReadManifest(path));
    }

    private static StoreManifest ReadManifest(string path)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize(File.ReadAllBytes(path), CliJson.Default.StoreManifest);
            if (manifest is not { Version: 1, Base: not null, Matrices: not null, Steps: not null, Include: not null, Exclude: not null })
                throw new CheckpointFormatException(path, "is not a version-1 snapshot store manifest.");
            return manifest;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"manifest is not valid JSON ({e.Message}).");
        }
    }

    /// <summary>A checkpoint folder's identity: the names, lengths, modification times and headers of its weight files,
    /// so that a folder rewritten since (or another folder) is told apart without reading its data.</summary>
    public static string Fingerprint(Checkpoint checkpoint)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var shard in checkpoint.Shards)
        {
            var info = new FileInfo(shard.Path);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{Path.GetFileName(shard.Path)}\n{info.Length}\n{info.LastWriteTimeUtc.Ticks}\n"));
            using var stream = new FileStream(shard.Path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var header = new byte[shard.DataStart];
            stream.ReadExactly(header);
            hash.AppendData(header);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The snapshots of every covered matrix in the current window, step by step, read from the step files.</summary>
    /// <param name="newest">Only the newest this many steps.</param>
    /// <param name="allSteps">Every recorded step, not only the current window's.</param>
    public Dictionary<string, List<Rank1Snapshot>> LoadSnapshots(int? newest = null, bool allSteps = false)
    {
        var result = Manifest.Matrices.ToDictionary(m => m.Name, _ => new List<Rank1Snapshot>(), StringComparer.Ordinal);
        var window = allSteps ? Manifest.Steps : Manifest.WindowSteps;
        var steps = newest is { } n ? window.Skip(Math.Max(0, window.Count - n)) : window;
        foreach (var step in steps)
            foreach (var (name, snapshot) in ReadStep(step))
                result[name].Add(snapshot);
        return result;
    }

    private IEnumerable<(string Name, Rank1Snapshot Snapshot)> ReadStep(StoreStep step)
    {
        string path = Path.Combine(Directory, step.File);
        if (!File.Exists(path)) throw new CheckpointFormatException(path, $"the snapshots of step {step.Step} are missing from the store.");
        using var file = SafetensorsFile.Open(path);
        var list = new List<(string, Rank1Snapshot)>();
        foreach (var m in Manifest.Matrices)
        {
            float[] Read(string suffix, int length)
            {
                if (!file.TryGetTensor(m.Name + suffix, out var t) || t.ElementCount != length || !t.DType.IsFloat())
                    throw new CheckpointFormatException(path, $"lacks '{m.Name}{suffix}' of {length} floats.");
                var values = new float[length];
                file.ReadFloats(t, values);
                return values;
            }
            var s = Read("/s", 2);
            list.Add((m.Name, new Rank1Snapshot(step.Step, s[0], Read("/u", m.Rows), Read("/v", m.Cols), s[1])));
        }
        return list;
    }

    /// <summary>What <see cref="Record"/> did.</summary>
    public enum RecordOutcome { Recorded, AlreadyRecorded }

    /// <summary>
    /// Records one checkpoint: reads W0 and W_t of each covered matrix once, computes the sign-aligned top triplet of
    /// dW_t = W_t − W0 (warm-started from the previous recorded step, exactly as a pass over the whole series does) and
    /// writes the step's file, then the manifest. Recording a step already recorded from the same files does nothing;
    /// a different checkpoint for a recorded step, an earlier step, or a checkpoint whose covered matrices differ from
    /// the store's is refused.
    /// </summary>
    /// <remarks><c>velocity</c>, for a new store: whether it keeps the velocity's running sums (<see cref="StoredVelocity"/>;
    /// default true). A store keeps what it was created with; a different value for an existing store is refused. <c>skip</c>,
    /// for a new store: the checkpoints at the start of every window left out of the velocity's sums (default 0).</remarks>
    public static (SnapshotStore Store, RecordOutcome Outcome) Record(string storeDirectory, string checkpointDirectory, long step,
        string? baseDirectory, long? baseStep, MatrixSelection? selection, CancellationToken cancellation = default, bool? velocity = null, int? skip = null)
    {
        System.IO.Directory.CreateDirectory(storeDirectory);
        using var storeLock = Lock(storeDirectory);
        string manifestPath = Path.Combine(storeDirectory, ManifestName);
        StoreManifest? manifest = File.Exists(manifestPath) ? ReadManifest(manifestPath) : null;
        RemoveLeftovers(storeDirectory, manifest);
        string checkpointFull = Path.GetFullPath(checkpointDirectory);
        if (manifest is not null)
        {
            if (baseDirectory is not null && Path.GetFullPath(baseDirectory) != manifest.Base)
                throw new UsageException($"--base {baseDirectory} differs from the store's base {manifest.Base}; a store follows one run.");
            if (baseStep is not null && baseStep != manifest.BaseStep)
                throw new UsageException($"--base-step {baseStep} differs from the store's base step {manifest.BaseStep}.");
            if (selection is not null && (!selection.Includes.SequenceEqual(manifest.Include) || !selection.Excludes.SequenceEqual(manifest.Exclude)))
                throw new UsageException("--include/--exclude differ from the store's; a store covers one set of matrices.");
            if (velocity is { } wanted && wanted != manifest.Velocity is not null)
                throw new UsageException($"--velocity {(wanted ? "on" : "off")} differs from the store's ({(wanted ? "it keeps no velocity sums" : "it keeps velocity sums")}); a store keeps what it was created with.");
            if (skip is { } k && k != (manifest.Velocity?.Skip ?? 0))
                throw new UsageException($"--skip-snapshots {k} differs from the store's ({manifest.Velocity?.Skip ?? 0}); a store keeps what it was created with.");
        }
        else if (baseDirectory is null)
            throw new UsageException($"{storeDirectory} holds no store yet: give --base (W0) for its first checkpoint.");
        if (skip is < 0 || skip > 0 && velocity == false)
            throw new UsageException($"--skip-snapshots must be 0 or more, and needs the velocity's sums; got {skip}{(velocity == false ? " with --velocity off" : "")}.");

        string baseFull = manifest?.Base ?? Path.GetFullPath(baseDirectory!);
        long baseAt = manifest?.BaseStep ?? baseStep ?? 0;
        selection ??= manifest is null ? new MatrixSelection() : new MatrixSelection(manifest.Include, manifest.Exclude);
        using var checkpoint = Checkpoint.Open(checkpointDirectory);
        string fingerprint = Fingerprint(checkpoint);
        if (manifest?.Steps.FirstOrDefault(s => s.Step == step) is { } recorded)
        {
            if (recorded.Fingerprint == fingerprint && recorded.Directory == checkpointFull)
                return (new SnapshotStore(storeDirectory, manifest), RecordOutcome.AlreadyRecorded);
            throw new AlphaRLException($"{checkpointDirectory}: step {step} is already recorded in {storeDirectory} from {recorded.Directory}, {(recorded.Directory == checkpointFull ? "whose files changed since" : "another folder")}; nothing was recorded.");
        }
        if (manifest is { Steps.Count: > 0 } && manifest.Steps[^1].Step > step)
            throw new UsageException($"Step {step} comes before the last recorded step {manifest.Steps[^1].Step}; record checkpoints in step order.");
        if (step <= baseAt)
            throw new UsageException($"Checkpoint {checkpointDirectory} is at step {step}, not after the base step {baseAt}.");

        using var baseCheckpoint = Checkpoint.Open(baseFull);
        if (manifest is not null && Fingerprint(baseCheckpoint) != manifest.BaseFingerprint)
            throw new AlphaRLException($"{baseFull}: the base changed since the store was created (its weight files differ); nothing was recorded.");
        var covered = checkpoint.TensorNames.Where(n => selection.Covers(checkpoint.Tensor(n).Info)).Select(n => checkpoint.Tensor(n).Info)
            .Select(i => new StoreMatrix(i.Name, checked((int)i.Shape[0]), checked((int)i.Shape[1]))).ToList();
        if (covered.Count == 0)
            throw new CheckpointFormatException(checkpointDirectory, "holds no covered matrix (2-D F32/F16/BF16 tensor whose name matches the include patterns).");
        if (manifest is not null && !covered.SequenceEqual(manifest.Matrices))
        {
            var extra = covered.Except(manifest.Matrices).Select(m => $"{m.Name} {m.Rows}×{m.Cols}").Take(3);
            var missing = manifest.Matrices.Except(covered).Select(m => $"{m.Name} {m.Rows}×{m.Cols}").Take(3);
            throw new CheckpointFormatException(checkpointDirectory, $"does not belong to the series of {storeDirectory}: its covered matrices differ " +
                $"(new or reshaped: {string.Join(", ", extra)}; missing: {string.Join(", ", missing)}); nothing was recorded.");
        }
        foreach (var m in covered)
        {
            if ((long)m.Rows * m.Cols > Array.MaxLength)
                throw new CheckpointFormatException(checkpointDirectory, $"matrix '{m.Name}' [{m.Rows}, {m.Cols}] is too large to process in one piece.");
            if (!baseCheckpoint.TryGetTensor(m.Name, out var b))
                throw new CheckpointFormatException(baseFull, $"has no tensor '{m.Name}', which {checkpointDirectory} holds.");
            if (b.Info.Shape is not [var r, var c] || r != m.Rows || c != m.Cols || !b.Info.DType.IsFloat())
                throw new CheckpointFormatException(b.File.Path, $"tensor '{m.Name}' is {b.Info.ShapeText} {b.Info.DType}, but [{m.Rows}, {m.Cols}] in {checkpointDirectory}; covered matrices must be float.");
        }

        var store = manifest is null
            ? new SnapshotStore(storeDirectory, new StoreManifest(1, baseFull, baseAt, Fingerprint(baseCheckpoint), selection.Includes, selection.Excludes, covered, [],
                velocity ?? true ? new StoreVelocity(0, 0, 0, null, skip ?? 0) : null))
            : new SnapshotStore(storeDirectory, manifest);
        // The window's first Skip checkpoints are left out of the sums, as the hook's velocity leaves its first snapshots out.
        using var sums = store.Manifest.Velocity is { } v && store.Manifest.WindowSteps.Count >= v.Skip ? new StoredVelocity.Update(storeDirectory, store.Manifest, step) : null;
        var previous = manifest is { Steps.Count: > 0 } ? store.LoadSnapshots(newest: 1, allSteps: true) : null;
        var tracker = new SubspaceTracker();
        var tensors = new List<(string, SafetensorsDType, long[], float[])>();
        // Matrix k + 1 is read while the kernel runs on matrix k: two pairs of buffers, each a matrix of W0 and of W_t.
        var buffers = new[] { (Base: new StoredWeights(), Current: new StoredWeights()), (Base: new StoredWeights(), Current: new StoredWeights()) };
        // Two matrices further ahead, the disk is asked to start reading too, so that it works while the kernel does.
        const int DiskAhead = 2;
        Task ReadAhead(int k) => Task.Run(() =>
        {
            if (k + DiskAhead < covered.Count)
            {
                baseCheckpoint.Tensor(covered[k + DiskAhead].Name).Prefetch();
                checkpoint.Tensor(covered[k + DiskAhead].Name).Prefetch();
            }
            buffers[k % 2].Base.Read(baseCheckpoint.Tensor(covered[k].Name));
            buffers[k % 2].Current.Read(checkpoint.Tensor(covered[k].Name));
        });
        var reading = ReadAhead(0);
        try
        {
            for (int k = 0; k < covered.Count; k++)
            {
                var m = covered[k];
                reading.GetAwaiter().GetResult();
                cancellation.ThrowIfCancellationRequested();
                if (k + 1 < covered.Count) reading = ReadAhead(k + 1);
                var (w0, w) = buffers[k % 2];
                if (previous?[m.Name] is [.., var last])
                    tracker.Record(m.Name, last.Step, new SingularTriplet(last.Sigma, last.U, last.V, 0, true), last.UpdateNorm);
                var snapshot = Finite.ObserveDifference(tracker, w0, $"of the base (W0, step {baseAt})", w, step, m.Rows, m.Cols);
                // The same read of W_t feeds the velocity's sums: each checkpoint is still read once.
                sums?.Add(m, w.Floats);
                tensors.Add((m.Name + "/u", SafetensorsDType.F32, [m.Rows], snapshot.U));
                tensors.Add((m.Name + "/v", SafetensorsDType.F32, [m.Cols], snapshot.V));
                tensors.Add((m.Name + "/s", SafetensorsDType.F32, [2], [snapshot.Sigma, snapshot.UpdateNorm]));
            }
        }
        finally
        {
            // The files close when this method returns: a read still under way (after a failure) ends first.
            try { reading.Wait(); } catch (AggregateException) { }
        }
        string file = $"step-{step}.safetensors";
        AtomicFile.Write(Path.Combine(storeDirectory, file), temp => SafetensorsFile.Write(temp, tensors));
        sums?.Commit();
        var updated = store.Manifest with { Steps = [.. store.Manifest.Steps, new StoreStep(step, checkpointFull, fingerprint, file)], Velocity = sums?.Manifest ?? store.Manifest.Velocity };
        WriteManifest(manifestPath, updated);
        sums?.RemovePrevious();
        return (new SnapshotStore(storeDirectory, updated), RecordOutcome.Recorded);
    }

    /// <summary>
    /// Begins a new window at <paramref name="start"/> (the hook's repeated schedule): the checkpoints recorded so far
    /// stay in the store but leave the fit, and the velocity's sums start again.
    /// </summary>
    public static SnapshotStore NewWindow(string storeDirectory, long start)
    {
        using var storeLock = Lock(storeDirectory);
        string manifestPath = Path.Combine(storeDirectory, ManifestName);
        var manifest = ReadManifest(manifestPath);
        if (manifest.Steps.Count > 0 && start < manifest.Steps[^1].Step)
            throw new UsageException($"A new window cannot begin at step {start}, before the last recorded step {manifest.Steps[^1].Step}.");
        var updated = manifest with { WindowStart = start, Velocity = manifest.Velocity is null ? null : new StoreVelocity(0, 0, 0, null, manifest.Velocity.Skip) };
        WriteManifest(manifestPath, updated);
        if (manifest.Velocity?.File is { } old) File.Delete(Path.Combine(storeDirectory, old));
        return new SnapshotStore(storeDirectory, updated);
    }

    /// <summary>
    /// Removes what a record killed outright left behind (under the lock, so no other recorder is writing): temporary
    /// files, and velocity sums the manifest does not name (written, but the manifest never pointed at them).
    /// </summary>
    private static void RemoveLeftovers(string storeDirectory, StoreManifest? manifest)
    {
        foreach (string temp in System.IO.Directory.EnumerateFiles(storeDirectory, ".*.tmp"))
            File.Delete(temp);
        foreach (string sums in System.IO.Directory.EnumerateFiles(storeDirectory, "velocity-*.safetensors"))
            if (Path.GetFileName(sums) != manifest?.Velocity?.File)
                File.Delete(sums);
    }

    /// <summary>Opens the checkpoint a step was recorded from, checking that its files are still the ones recorded.</summary>
    public Checkpoint OpenRecorded(StoreStep step)
    {
        var checkpoint = Checkpoint.Open(step.Directory);
        if (Fingerprint(checkpoint) != step.Fingerprint)
        {
            checkpoint.Dispose();
            throw new AlphaRLException($"{step.Directory}: the checkpoint of step {step.Step} changed since it was recorded (its weight files differ).");
        }
        return checkpoint;
    }

    /// <summary>Opens the base, checking that its files are the ones the store was created with.</summary>
    public Checkpoint OpenBase()
    {
        var checkpoint = Checkpoint.Open(Manifest.Base);
        if (Fingerprint(checkpoint) != Manifest.BaseFingerprint)
        {
            checkpoint.Dispose();
            throw new AlphaRLException($"{Manifest.Base}: the base changed since the store was created (its weight files differ).");
        }
        return checkpoint;
    }

    private static void WriteManifest(string path, StoreManifest manifest) =>
        AtomicFile.Write(path, temp => File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(manifest, CliJson.Default.StoreManifest)));

    private static FileStream Lock(string directory)
    {
        string path = Path.Combine(directory, LockName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new AlphaRLException($"{directory}: another process is recording into this store ({e.Message}); try again when it has finished.");
        }
    }
}
