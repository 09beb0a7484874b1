using AlphaRl.Extrapolation;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.State;
using AlphaRl.TorchSharp.Tracking;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Session;

/// <summary>
/// The window: where it began and its last snapshot (in effective steps), the tracker's rank-1 snapshots, the path
/// sketches and the jump methods' running state, all observed together at each snapshot and cleared together when a
/// new window begins. It alone holds the window's start; the methods read it through <see cref="View"/>.
/// </summary>
internal sealed class SnapshotWindow : IDisposable
{
    private readonly int _max;
    private readonly Func<long> _sessionStart;

    public SnapshotWindow(TorchSubspaceTracker tracker, IReadOnlyList<IJumpMethod> methods, int maxSnapshots, Func<long> sessionStart)
    {
        Tracker = tracker;
        Methods = methods;
        _max = maxSnapshots;
        _sessionStart = sessionStart;
        Sketch = new PathSketch(tracker.Covered);
    }

    public TorchSubspaceTracker Tracker { get; }

    public PathSketch Sketch { get; }

    public IReadOnlyList<IJumpMethod> Methods { get; }

    /// <summary>s: the effective step the window began at.</summary>
    public long Start { get; private set; }

    /// <summary>e: the last snapshot's effective step (s before any).</summary>
    public long Last { get; private set; }

    /// <summary>Snapshots taken since the window began (the tracker keeps the newest <see cref="SnapshotOptions.Max"/> of them).</summary>
    public int Observed { get; private set; }

    /// <summary>Snapshots the tracker holds.</summary>
    public int Count => Tracker.Steps.Count;

    public WindowView View => new(_sessionStart(), Start, Last, Observed);

    /// <summary>Bytes held between steps: W0, the snapshots, the sketches and the methods' state.</summary>
    public long MemoryBytes => Tracker.Base.Bytes + Tracker.StorageBytes + Sketch.Bytes + Methods.Sum(m => m.MemoryBytes);

    /// <summary>The part of <see cref="MemoryBytes"/> in host memory whatever the parameters' device.</summary>
    public long HostMemoryBytes => (Tracker.Base.OnCpu ? Tracker.Base.Bytes : 0) + Tracker.StorageBytes + Methods.Sum(m => m.HostMemoryBytes);

    /// <summary>Snapshots the covered matrices at effective step <paramref name="step"/> and lets every method observe it.</summary>
    public void Observe(long step)
    {
        if (Observed > 0 && step <= Last)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Snapshot steps must increase: step {step} follows step {Last}.");
        Tracker.Observe(step);
        Sketch.Observe(step);
        (Last, Observed) = (step, Observed + 1);
        foreach (var m in Methods) m.Observe(View);
        if (Tracker.Steps.Count > _max)
        {
            Tracker.KeepNewest(_max);
            Sketch.KeepNewest(_max);
        }
    }

    /// <summary>Follows parameters the module replaced (e.g. by <c>module.to(...)</c>) so that changes are read from the live tensors.</summary>
    public void Rebind(nn.Module policy)
    {
        var live = policy.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var m in Tracker.Covered)
        {
            if (!live.TryGetValue(m.Name, out var parameter))
                throw new AlphaRLException($"Parameter '{m.Name}' is no longer in the module; AlphaRL covered it when the session started.");
            if (!ReferenceEquals(parameter, m.Parameter)) m.Rebind(parameter);
        }
    }

    /// <summary>Begins a new window at effective step <paramref name="start"/>.</summary>
    public void Clear(long start)
    {
        (Start, Last, Observed) = (start, start, 0);
        Tracker.Clear();
        Sketch.Clear();
        foreach (var m in Methods) m.Reset();
    }

    /// <summary>The rank-1 fit of every covered matrix's window.</summary>
    public List<TrajectoryFit> Fit(IExtrapolator extrapolator) =>
        Tracker.Covered.Select(m => extrapolator.Fit(m.Name, Tracker.Snapshots(m.Name))).ToList();

    /// <summary>The window's path diagnostics from the sketches' Gram matrix and the tracker's last snapshots.</summary>
    public PathDiagnostics Diagnose(FitQuality quality)
    {
        double sigma = 0, norm = 0;
        foreach (var name in Tracker.Matrices)
        {
            var last = Tracker.Snapshots(name)[^1];
            sigma += (double)last.Sigma * last.Sigma;
            norm += (double)last.UpdateNorm * last.UpdateNorm;
        }
        double energy = norm > 0 ? sigma / norm : double.NaN;
        // Steps counted from the session's start, so that where a run starts does not change the numbers.
        long origin = _sessionStart();
        var steps = Sketch.Steps.Select(s => s - origin).ToArray();
        return steps.Length >= 3
            ? PathDiagnostics.FromGram(Sketch.Gram(), steps, energy, quality.RelativeError)
            : new PathDiagnostics(double.NaN, double.NaN, energy, quality.RelativeError);
    }

    /// <summary>Adds W0, the snapshots' vectors, the sketches and the methods' tensors to <paramref name="tensors"/>
    /// (vectors wrapped for writing go to <paramref name="wrapped"/>, for the caller to free) and returns the scalars.</summary>
    public WindowState Save(List<(string, Tensor)> tensors, List<Tensor> wrapped)
    {
        Tensor Wrap(float[] values)
        {
            var t = tensor(values);
            wrapped.Add(t);
            return t;
        }
        var covered = Tracker.Covered;
        foreach (var m in covered) tensors.Add(($"base/{m.Name}", Tracker.Base[m.Name]));
        var snapshots = new List<SnapshotEntry>();
        var steps = Tracker.Steps;
        for (int k = 0; k < steps.Count; k++)
        {
            var sigma = new float[covered.Count];
            var norm = new float[covered.Count];
            for (int i = 0; i < covered.Count; i++)
            {
                var s = Tracker.Snapshots(covered[i].Name)[k];
                (sigma[i], norm[i]) = (s.Sigma, s.UpdateNorm);
                tensors.Add(($"window/{k}/u/{covered[i].Name}", Wrap(s.U)));
                tensors.Add(($"window/{k}/v/{covered[i].Name}", Wrap(s.V)));
            }
            snapshots.Add(new SnapshotEntry(steps[k], sigma, norm));
        }
        var bases = Sketch.Bases;
        for (int i = 0; i < bases.Count; i++) tensors.Add(($"sketch/c0/{covered[i].Name}", bases[i]));
        var sketches = Sketch.Sketches;
        for (int k = 0; k < sketches.Count; k++)
            for (int i = 0; i < sketches[k].P.Length; i++)
                tensors.Add(($"sketch/{k}/{covered[i].Name}", Wrap(sketches[k].P[i])));
        var methods = new List<MethodEntry>();
        for (int i = 0; i < Methods.Count; i++)
        {
            var state = new MethodState();
            Methods[i].Save(state);
            methods.Add(new MethodEntry(Methods[i].Name, state.Scalars));
            foreach (var (key, t) in state.Tensors) tensors.Add(($"methods/{i}/{key}", t));
        }
        return new WindowState(Start, Last, Observed, snapshots, sketches.Select(s => s.Step).ToList(), methods);
    }

    /// <summary>
    /// Puts back what <see cref="Save"/> wrote. Every method's state is checked and copied before the window's own
    /// scalars change, so a saved state that does not fit throws (naming what) and the caller discards the session.
    /// </summary>
    public void Load(WindowState state, Func<string, Tensor> get, IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (!state.Methods.Select(m => m.Name).SequenceEqual(Methods.Select(m => m.Name)))
            throw new AlphaRLException($"the saved session's jump methods are [{string.Join(", ", state.Methods.Select(m => m.Name))}]; this session's are [{string.Join(", ", Methods.Select(m => m.Name))}].");
        var covered = Tracker.Covered;
        foreach (var m in covered) Tracker.Base.Restore(m.Name, get($"base/{m.Name}"));
        Tracker.Clear();
        for (int k = 0; k < state.Snapshots.Count; k++)
        {
            var w = state.Snapshots[k];
            for (int i = 0; i < covered.Count; i++)
            {
                string name = covered[i].Name;
                var u = get($"window/{k}/u/{name}").data<float>().ToArray();
                var v = get($"window/{k}/v/{name}").data<float>().ToArray();
                Tracker.Restore(name, new Rank1Snapshot(w.Step, w.Sigma[i], u, v, w.UpdateNorm[i]));
            }
        }
        var bases = covered.Select(m => get($"sketch/c0/{m.Name}")).ToList();
        Sketch.Restore(bases, state.SketchSteps.Select((step, k) => (step, covered.Select(m => get($"sketch/{k}/{m.Name}").data<float>().ToArray()).ToArray())).ToList());
        for (int i = 0; i < Methods.Count; i++)
        {
            string prefix = $"methods/{i}/";
            Methods[i].Load(new MethodState
            {
                Scalars = state.Methods[i].Scalars,
                Tensors = tensors.Where(t => t.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(t => t.Key[prefix.Length..], t => t.Value, StringComparer.Ordinal),
            });
        }
        (Start, Last, Observed) = (state.Start, state.Last, state.Observed);
    }

    public void Dispose()
    {
        foreach (var m in Methods) m.Dispose();
        Sketch.Dispose();
        Tracker.Dispose();
    }
}

/// <summary>The window's saved scalars (its tensors are in tensors.safetensors).</summary>
internal sealed record WindowState(long Start, long Last, int Observed, List<SnapshotEntry> Snapshots, List<long> SketchSteps, List<MethodEntry> Methods);
