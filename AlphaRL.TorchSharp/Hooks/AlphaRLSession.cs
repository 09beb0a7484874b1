using System.Diagnostics;
using AlphaRl.Extrapolation;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

/// <summary>
/// AlphaRL attached to one policy: call <see cref="Step(long, Func{double}?)"/> after every optimizer step. It snapshots
/// the covered matrices every <see cref="AlphaRLOptions.SnapshotInterval"/> steps, judges the window's rank-1 fit out
/// of sample, and once the window fits jumps the weights ahead, guarded by the caller's evaluation. Not thread-safe:
/// call it from the training loop. Disposing it frees W0 and the snapshots.
/// </summary>
/// <example>
/// <code>
/// using var alpha = AlphaRL.Accelerate(policy, new AlphaRLOptions { SnapshotInterval = 5 });
/// alpha.Jumped += (_, jump) => { if (jump.Kept) optimizer = NewOptimizer(policy); };
/// for (int step = 1; step &lt;= steps; step++)
/// {
///     TrainOneStep();
///     var outcome = alpha.Step(step, () => HeldOutAccuracy(policy));
///     if (outcome.EffectiveStep >= targetSteps) break;
/// }
/// </code>
/// </example>
public sealed class AlphaRLSession : IDisposable
{
    private readonly nn.Module _policy;
    private readonly AlphaRLOptions _options;
    private readonly ILogger _logger;
    private readonly TorchSubspaceTracker _tracker;
    private readonly IExtrapolator _extrapolator;
    private readonly Stopwatch _overhead = new();
    private long _lastStep;
    private long _skipped;
    private long _windowStartTrained;
    private long _windowStartEffective;
    private int _snapshotsSinceAttempt;
    private readonly List<(string Name, Tensor Start)> _uncoveredStart = new();
    private long _uncoveredStartStep;
    private bool _disposed;

    internal AlphaRLSession(nn.Module policy, AlphaRLOptions options, ILogger? logger, IExtrapolator? extrapolator = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        AlphaRLOptionsValidator.ThrowIfInvalid(options);
        _policy = policy;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _extrapolator = extrapolator ?? options.Extrapolator ?? new StepLineExtrapolator { HoldOutFraction = options.HoldOutFraction };
        Coverage = ParameterCoverage.Select(policy, options);
        if (Coverage.Covered.Count == 0)
            throw new AlphaRlException("AlphaRL found no parameter to cover in this module: " +
                string.Join("; ", Coverage.Excluded.Take(8).Select(e => $"{e.Name}: {e.Reason}")) +
                ". Name attention/MLP weights as an LLM does (q_proj, up_proj, ...) or set AlphaRLOptions.IncludePatterns or Cover.");
        Log.Coverage(_logger, Coverage.Covered.Count, Coverage.Covered.Sum(c => (long)c.Rows * c.Cols), Coverage.Excluded.Count);
        foreach (var e in Coverage.Excluded) Log.NotCovered(_logger, e.Name, e.Reason);
        _tracker = new TorchSubspaceTracker(Coverage.Covered, options.KeepBaseOnCpu, options.PowerIteration);
    }

    /// <summary>Raised after every jump that was tried, kept or rejected. Reset optimizer moments here after a kept jump.</summary>
    public event EventHandler<JumpOutcome>? Jumped;

    /// <summary>Which parameters are covered and why the others are not.</summary>
    public ParameterCoverage Coverage { get; }

    /// <summary>Names of the covered parameters.</summary>
    public IReadOnlyList<string> Covered => _tracker.Matrices;

    /// <summary>The tracker holding the current window's snapshots.</summary>
    public ISubspaceTracker Tracker => _tracker;

    /// <summary>Every jump tried so far.</summary>
    public IReadOnlyList<JumpOutcome> Jumps => _jumps;
    private readonly List<JumpOutcome> _jumps = new();

    /// <summary>Kept jumps so far.</summary>
    public int JumpsKept => _jumps.Count(j => j.Kept);

    /// <summary>Effective steps gained by kept jumps.</summary>
    public long StepsSkipped => _skipped;

    /// <summary>Time spent inside AlphaRL (snapshots, fits, building, applying and restoring jumps), excluding the caller's evaluations.</summary>
    public TimeSpan OverheadTime => _overhead.Elapsed;

    /// <summary>Bytes AlphaRL holds: W0 copies plus snapshots.</summary>
    public long MemoryBytes => _tracker.Base.Bytes + _tracker.StorageBytes + _uncoveredStart.Sum(u => u.Start.NumberOfElements * u.Start.ElementSize);

    /// <summary>
    /// Tells the session that optimizer step <paramref name="step"/> is done. Takes a snapshot when one is due, and
    /// when the window fits, tries a jump guarded by <paramref name="evaluate"/>.
    /// </summary>
    /// <param name="step">Optimizer steps trained so far (1 after the first step); must increase.</param>
    /// <param name="evaluate">Scores the policy's current weights, higher is better (e.g. mean reward on held-out
    /// prompts). Called on the weights before and after a jump; without it jumps are applied unguarded.</param>
    public StepOutcome Step(long step, Func<double>? evaluate = null) =>
        StepAsync(step, evaluate is null ? null : _ => ValueTask.FromResult(evaluate())).AsTask().GetAwaiter().GetResult();

    /// <summary>Asynchronous form of <see cref="Step(long, Func{double}?)"/>, for evaluations that generate or call out.</summary>
    public async ValueTask<StepOutcome> StepAsync(long step, Func<CancellationToken, ValueTask<double>>? evaluate, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (step <= _lastStep)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Steps must increase: step {step} follows step {_lastStep}.");
        _lastStep = step;
        long effective = step + _skipped;
        bool due = (step - _windowStartTrained) % _options.SnapshotInterval == 0;
        bool jumpsSpent = _options.MaxJumps > 0 && JumpsKept >= _options.MaxJumps;
        if (!due || jumpsSpent)
            return new StepOutcome(step, effective, StepAction.None, _tracker.Steps.Count, null, null);

        _overhead.Start();
        var started = Stopwatch.GetTimestamp();
        RebindParameters();
        _tracker.Observe(effective);
        if (_tracker.Steps.Count > _options.MaxSnapshots) _tracker.KeepNewest(_options.MaxSnapshots);
        _snapshotsSinceAttempt++;
        int count = _tracker.Steps.Count;
        if (count == 1 && _options.Uncovered == UncoveredTensors.Extrapolate) CopyUncovered(effective);
        Log.Snapshot(_logger, count, effective, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        // After a rejected jump, wait for MinSnapshots new snapshots before judging again: each try costs two evaluations.
        if (count < _options.MinSnapshots || _snapshotsSinceAttempt < _options.MinSnapshots && _jumps.Count > 0 && !_jumps[^1].Kept)
        {
            _overhead.Stop();
            return new StepOutcome(step, effective, StepAction.Snapshot, count, null, null);
        }

        var fits = _tracker.Covered.Select(m => _extrapolator.Fit(m.Name, _tracker.Snapshots(m.Name))).ToList();
        var quality = FitQuality.Combine(fits.Select(f => f.HoldOut));
        bool fitsWell = quality.RelativeError <= _options.FitThreshold;
        long target = _options.TargetStep ?? _windowStartEffective + (long)Math.Round(_options.TargetMultiple * (effective - _windowStartEffective));
        Log.Judged(_logger, count, effective, quality.RelativeError, quality.Cosine, _options.FitThreshold, !fitsWell ? "not fitting yet" : _options.MaxJumps == 0 ? "fits (jumps are off)" : $"jumping to step {target}");
        if (!fitsWell || _options.MaxJumps == 0)
        {
            _overhead.Stop();
            return new StepOutcome(step, effective, StepAction.Snapshot, count, quality, null);
        }
        if (target <= effective)
        {
            Log.TargetPassed(_logger, target, effective);
            _overhead.Stop();
            return new StepOutcome(step, effective, StepAction.Snapshot, count, quality, null);
        }
        _overhead.Stop();
        var jump = await TryJumpAsync(step, effective, target, fits, quality, evaluate, cancellationToken).ConfigureAwait(false);
        _jumps.Add(jump);
        _snapshotsSinceAttempt = 0;
        if (jump.Kept)
        {
            _skipped += jump.StepsSkipped;
            _windowStartTrained = step;
            _windowStartEffective = jump.TargetStep;
            _tracker.Clear();
        }
        Jumped?.Invoke(this, jump);
        return new StepOutcome(step, step + _skipped, jump.Kept ? StepAction.JumpKept : StepAction.JumpRejected, _tracker.Steps.Count, quality, jump);
    }

    private async ValueTask<JumpOutcome> TryJumpAsync(long step, long from, long target, List<TrajectoryFit> fits, FitQuality quality,
        Func<CancellationToken, ValueTask<double>>? evaluate, CancellationToken cancellationToken)
    {
        var evaluation = new Stopwatch();
        double? before = null, after = null;
        if (evaluate is not null)
        {
            evaluation.Start();
            before = await evaluate(cancellationToken).ConfigureAwait(false);
            evaluation.Stop();
        }

        var build = Stopwatch.StartNew();
        _overhead.Start();
        var corrections = new List<MatrixJump>(fits.Count);
        for (int i = 0; i < fits.Count; i++)
        {
            var xHat = _extrapolator.Predict(fits[i], target);
            corrections.Add(new MatrixJump(_tracker.Covered[i], Rank1Jump.Coefficients(fits[i], xHat, _options.JumpForm), fits[i].LastV));
        }
        var applied = WeightJump.Apply(corrections, _tracker.Base, _options.JumpForm, _options.KeepBackupOnCpu, UncoveredJumps(from, target));
        _overhead.Stop();
        build.Stop();

        bool kept = true;
        try
        {
            if (evaluate is not null)
            {
                evaluation.Start();
                after = await evaluate(cancellationToken).ConfigureAwait(false);
                evaluation.Stop();
                kept = double.IsFinite(after.Value) && after.Value >= before!.Value - _options.GuardTolerance;
            }
        }
        catch
        {
            applied.Restore();
            applied.Dispose();
            throw;
        }

        build.Start();
        _overhead.Start();
        if (!kept) applied.Restore();
        applied.Dispose();
        _overhead.Stop();
        build.Stop();

        if (kept) Log.JumpKept(_logger, from, target, evaluate is null ? "unguarded" : "guarded", before, after);
        else Log.JumpRejected(_logger, from, target, before, after, _options.GuardTolerance);
        return new JumpOutcome(step, from, target, kept, evaluate is not null, before, after, quality, fits.Count, build.Elapsed, evaluation.Elapsed);
    }

    /// <summary>Keeps W_s of the trainable tensors that are not covered, for their linear extrapolation at the jump.</summary>
    private void CopyUncovered(long step)
    {
        DisposeUncovered();
        var covered = _tracker.Matrices.ToHashSet(StringComparer.Ordinal);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in _policy.named_parameters())
            if (parameter.requires_grad && !covered.Contains(name))
                _uncoveredStart.Add((name, parameter.detach().clone().DetachFromDisposeScope()));
        _uncoveredStartStep = step;
    }

    private List<LinearJump>? UncoveredJumps(long from, long target)
    {
        if (_options.Uncovered != UncoveredTensors.Extrapolate || _uncoveredStart.Count == 0 || from <= _uncoveredStartStep) return null;
        var live = _policy.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        double factor = (double)(target - from) / (from - _uncoveredStartStep);
        return _uncoveredStart.Where(u => live.ContainsKey(u.Name)).Select(u => new LinearJump(u.Name, live[u.Name], u.Start, factor)).ToList();
    }

    private void DisposeUncovered()
    {
        foreach (var (_, start) in _uncoveredStart) start.Dispose();
        _uncoveredStart.Clear();
    }

    /// <summary>Follows parameters the module replaced (e.g. by <c>module.to(...)</c>) so that changes are checked on the live tensors.</summary>
    private void RebindParameters()
    {
        var live = _policy.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var m in _tracker.Covered)
        {
            if (!live.TryGetValue(m.Name, out var parameter))
                throw new AlphaRlException($"Parameter '{m.Name}' is no longer in the module; AlphaRL covered it when the session started.");
            if (!ReferenceEquals(parameter, m.Parameter)) m.Rebind(parameter);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _tracker.Dispose();
        DisposeUncovered();
    }
}
