using AlphaRl.Checkpoints;

namespace AlphaRl.Cli;

/// <summary>A checkpoint folder and the training step it was saved at.</summary>
internal sealed record StepFolder(long Step, string Directory)
{
    /// <summary>Parses <c>STEP:DIR</c>.</summary>
    public static StepFolder Parse(string text)
    {
        int colon = text.IndexOf(':');
        if (colon <= 0 || colon == text.Length - 1 || !long.TryParse(text.AsSpan(0, colon), out long step))
            throw new UsageException($"--checkpoint '{text}' must be STEP:DIR, e.g. 100:runs/step-100.");
        return new StepFolder(step, text[(colon + 1)..]);
    }

    /// <summary>The checkpoints ordered by step, checked: at least one, no step twice, all after the base step.</summary>
    public static List<StepFolder> Order(IReadOnlyList<StepFolder> checkpoints, long baseStep)
    {
        if (checkpoints.Count == 0) throw new UsageException("Give at least one --checkpoint STEP:DIR.");
        var ordered = checkpoints.OrderBy(c => c.Step).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].Step == ordered[i - 1].Step)
                throw new UsageException($"Two checkpoints are given for step {ordered[i].Step}: {ordered[i - 1].Directory} and {ordered[i].Directory}.");
        if (ordered[0].Step <= baseStep)
            throw new UsageException($"Checkpoint {ordered[0].Directory} is at step {ordered[0].Step}, not after the base step {baseStep}.");
        return ordered;
    }
}

/// <summary>
/// The base checkpoint and the window checkpoints, opened and checked against each other before any tensor is read:
/// every covered matrix of the last checkpoint must exist, with the same shape, in the base and every checkpoint.
/// </summary>
internal sealed class CheckpointSeries : IDisposable
{
    private readonly List<Checkpoint> _opened = new();

    private CheckpointSeries() { }

    public Checkpoint Base { get; private set; } = null!;
    public long BaseStep { get; private set; }
    /// <summary>The checkpoints opened: every window checkpoint, or (from a snapshot store) only the last one.</summary>
    public IReadOnlyList<(long Step, Checkpoint Checkpoint)> Window { get; private set; } = [];

    /// <summary>The steps of the window, first to last (from a store: every recorded step).</summary>
    public IReadOnlyList<long> Steps { get; private set; } = [];

    /// <summary>The rank-1 snapshots recorded in a snapshot store, per covered matrix; null when the series is read.</summary>
    public IReadOnlyDictionary<string, List<Tracking.Rank1Snapshot>>? Recorded { get; private set; }
    public Checkpoint Last => Window[^1].Checkpoint;
    public IReadOnlyList<string> Covered { get; private set; } = [];
    public HashSet<string> CoveredSet { get; private set; } = new(StringComparer.Ordinal);

    public static CheckpointSeries Open(string baseDirectory, long baseStep, IReadOnlyList<StepFolder> checkpoints, MatrixSelection selection)
    {
        var ordered = StepFolder.Order(checkpoints, baseStep);
        var series = new CheckpointSeries { BaseStep = baseStep };
        try
        {
            series.Base = series.Track(Checkpoint.Open(baseDirectory));
            series.Window = ordered.Select(c => (c.Step, series.Track(Checkpoint.Open(c.Directory)))).ToList();
            series.Steps = ordered.Select(c => c.Step).ToList();
            series.Covered = series.Last.TensorNames.Where(n => selection.Covers(series.Last.Tensor(n).Info)).ToList();
            series.CoveredSet = new HashSet<string>(series.Covered, StringComparer.Ordinal);
            if (series.Covered.Count == 0)
                throw new CheckpointFormatException(series.Last.Directory, "holds no covered matrix (2-D F32/F16/BF16 tensor whose name matches the include patterns).");
            series.CheckShapes();
            return series;
        }
        catch
        {
            series.Dispose();
            throw;
        }
    }

    /// <summary>The series of a snapshot store: the base and the last recorded checkpoint are opened (and checked
    /// unchanged); the snapshots of every step come from the store. No other checkpoint is opened.</summary>
    public static CheckpointSeries OpenFromStore(SnapshotStore store)
    {
        var manifest = store.Manifest;
        if (manifest.WindowSteps.Count == 0)
            throw new AlphaRLException($"{store.Directory}: the store has no recorded step {(manifest.WindowStart is { } s ? $"since its window began at step {s}" : "yet")}.");
        var series = new CheckpointSeries { BaseStep = manifest.BaseStep };
        try
        {
            series.Base = series.Track(store.OpenBase());
            var last = manifest.Steps[^1];
            series.Window = [(last.Step, series.Track(store.OpenRecorded(last)))];
            series.Steps = manifest.WindowSteps.Select(s => s.Step).ToList();
            series.Covered = manifest.Matrices.Select(m => m.Name).ToList();
            series.CoveredSet = new HashSet<string>(series.Covered, StringComparer.Ordinal);
            series.CheckSeries(series.Covered, "covered matrices");
            series.Recorded = store.LoadSnapshots();
            return series;
        }
        catch
        {
            series.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var c in _opened) c.Dispose();
    }

    private Checkpoint Track(Checkpoint c)
    {
        _opened.Add(c);
        return c;
    }

    /// <summary>The float tensors of the last checkpoint that are not covered (embeddings, norms, biases, head), checked
    /// like the covered matrices: each must exist, with the same shape and a float dtype, in the base and every checkpoint.</summary>
    public IReadOnlyList<string> UncoveredFloatTensors()
    {
        var names = Last.TensorNames.Where(n => !CoveredSet.Contains(n) && Last.Tensor(n).Info is { ElementCount: > 0 } info && info.DType.IsFloat()).ToList();
        CheckSeries(names, "extrapolated tensors");
        return names;
    }

    private void CheckShapes()
    {
        foreach (string name in Covered)
        {
            var reference = Last.Tensor(name);
            if (reference.Info.ElementCount > Array.MaxLength)
                throw new CheckpointFormatException(reference.File.Path, $"matrix '{name}' {reference.Info.ShapeText} is too large to process in one piece.");
        }
        CheckSeries(Covered, "covered matrices");
    }

    private void CheckSeries(IEnumerable<string> names, string what)
    {
        foreach (string name in names)
        {
            var reference = Last.Tensor(name);
            foreach (var checkpoint in Window.Select(w => w.Checkpoint).Prepend(Base))
            {
                if (!checkpoint.TryGetTensor(name, out var t))
                    throw new CheckpointFormatException(checkpoint.Directory, $"has no tensor '{name}', which {reference.File.Path} holds.");
                if (!t.Info.Shape.AsSpan().SequenceEqual(reference.Info.Shape))
                    throw new CheckpointFormatException(t.File.Path, $"tensor '{name}' has shape {t.Info.ShapeText}, but {reference.Info.ShapeText} in {reference.File.Path}.");
                if (!t.Info.DType.IsFloat())
                    throw new CheckpointFormatException(t.File.Path, $"tensor '{name}' has dtype {t.Info.DType}; {what} must be F32, F16 or BF16.");
            }
        }
    }
}
