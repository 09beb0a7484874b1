using System.Diagnostics;
using System.Diagnostics.Metrics;
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
/// the covered matrices every <see cref="AlphaRLOptions.SnapshotInterval"/> steps, judges the window (rank-1 fit out of
/// sample, path diagnostics), and when the schedule says so proposes candidates from its jump methods over the grid of
/// jump lengths, keeping the best only if the caller's evaluation says it is no worse than W_e. Not thread-safe: call
/// it from the training loop. Disposing it frees W0, the snapshots and the methods' state.
/// </summary>
/// <example>
/// <code>
/// var options = new AlphaRLOptions { SnapshotInterval = 5, Methods = { new VelocityJumpOptions() },
///     JumpLengths = [0, 0.5, 1, 2], Schedule = JumpSchedule.Repeated, MaxJumps = 10 };   // or AlphaRLOptions.Paper()
/// using var alpha = AlphaRL.Accelerate(policy, options);
/// alpha.Jumped += (_, jump) => { if (jump.Kept) optimizer = NewOptimizer(policy); };
/// for (int step = 1; step &lt;= steps; step++)
/// {
///     TrainOneStep();
///     var outcome = alpha.Step(step, () => HeldOutAccuracy(policy));
///     if (outcome.EffectiveStep >= targetSteps) break;
/// }
/// </code>
/// </example>
public sealed partial class AlphaRLSession : IDisposable
{
    private readonly nn.Module _policy;
    private readonly AlphaRLOptions _options;
    private readonly IReadOnlyDictionary<string, double> _guardFloors;
    private readonly ILogger _logger;
    private readonly TorchSubspaceTracker _tracker;
    private readonly IExtrapolator _extrapolator;
    private readonly Stopwatch _overhead = new();
    private TimeSpan _overheadBefore;
    private long? _start;
    private long _lastStep;
    private long _skipped;
    private long _windowStartTrained;
    private long _windowStartEffective;
    private int _snapshotsSinceAttempt;
    private long _evaluations;
    private bool _missedSnapshotWarned;
    private readonly List<IJumpMethod> _methods = new();
    private readonly PathSketch _sketch = null!;
    private readonly AlphaRLMetrics _metrics;
    private bool _disposed;

    internal AlphaRLSession(nn.Module policy, AlphaRLOptions options, ILogger? logger, IExtrapolator? extrapolator = null,
        IMeterFactory? meterFactory = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        // The session owns its settings: later changes to the caller's object have no effect.
        options = options.Clone();
        AlphaRLOptionsValidator.ThrowIfInvalid(options);
        _policy = policy;
        _options = options;
        _guardFloors = new Dictionary<string, double>(options.GuardFloors, StringComparer.Ordinal);
        Name = name ?? "";
        _logger = logger ?? NullLogger.Instance;
        _metrics = new AlphaRLMetrics(meterFactory, Name);
        var fit = extrapolator ?? options.Extrapolator ?? new StepLineExtrapolator { HoldOutFraction = options.HoldOutFraction };
        // The step line is fitted on steps counted from the session's start, so where a run starts does not change the numbers.
        _extrapolator = fit is StepLineExtrapolator ? new ShiftedExtrapolator(fit, () => SessionStart) : fit;
        Coverage = ParameterCoverage.Select(policy, options);
        if (Coverage.Covered.Count == 0)
            throw new AlphaRlException("AlphaRL found no parameter to cover in this module: " +
                string.Join("; ", Coverage.Excluded.Take(8).Select(e => $"{e.Name}: {e.Reason}")) +
                ". Name attention/MLP weights as an LLM does (q_proj, up_proj, ...) or set AlphaRLOptions.IncludePatterns or Cover.");
        Log.Coverage(_logger, Coverage.Covered.Count, Coverage.Covered.Sum(c => (long)c.Rows * c.Cols), Coverage.Excluded.Count);
        foreach (var e in Coverage.Excluded) Log.NotCovered(_logger, e.Name, e.Reason);
        _tracker = new TorchSubspaceTracker(Coverage.Covered, options.KeepBaseOnCpu, options.PowerIteration);
        try
        {
            _sketch = new PathSketch(_tracker.Covered);
            var context = new JumpMethodContext(policy, _tracker, _extrapolator, options, () => SessionStart);
            var methods = options.Methods.Count > 0 ? options.Methods.ToList() : AlphaRLOptions.DefaultMethods();
            foreach (var m in methods) _methods.Add(m.Create(context));
            if (options.StartStep is { } start) Begin(start);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Raised after every jump that was tried, kept or rejected, once the session's state is updated. Reset
    /// optimizer moments here after a kept jump. A handler that throws does not undo anything: Step then throws a
    /// <see cref="JumpedHandlerException"/> carrying the step's outcome.</summary>
    public event EventHandler<JumpOutcome>? Jumped;

    /// <summary>The session's name: the DI options name it was created with ("" otherwise); tags its metrics and spans.</summary>
    public string Name { get; }

    /// <summary>A copy of the settings in effect (copied and validated when the session started; changing it changes nothing).</summary>
    public AlphaRLOptions Options => _options.Clone();

    /// <summary>The trained step the session started at (W0's step): <see cref="AlphaRLOptions.StartStep"/>, or decided by
    /// the first <see cref="Step(long, Func{double}?)"/>; null before that.</summary>
    public long? StartStep => _start;

    /// <summary>The last trained step passed to Step (the start step before any).</summary>
    public long LastStep => _lastStep;

    /// <summary>Effective step at which the session begins (W0's step); 0 until known.</summary>
    private long SessionStart => _start ?? 0;

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
    public TimeSpan OverheadTime => _overheadBefore + _overhead.Elapsed;

    /// <summary>Calls of the caller's evaluation so far, W_e's included.</summary>
    public long Evaluations => _evaluations;

    /// <summary>The jump methods in effect, in the order their candidates are tried (e.g. ["velocity"]).</summary>
    public IReadOnlyList<string> Methods => _methods.Select(m => m.Name).ToList();

    /// <summary>Bytes AlphaRL holds between steps: W0 copies, snapshots, the diagnostics' sketches and the methods' state
    /// (the one backup taken during a jump attempt comes on top and is freed after it).</summary>
    public long MemoryBytes => _tracker.Base.Bytes + _tracker.StorageBytes + _sketch.Bytes + _methods.Sum(m => m.MemoryBytes);

    /// <summary>
    /// Tells the session that optimizer step <paramref name="step"/> is done. Takes a snapshot when one is due, and
    /// when the window fits, tries a jump guarded by <paramref name="evaluate"/>.
    /// </summary>
    /// <param name="step">Optimizer steps trained so far (1 after the first step of a run started at 0); must increase.</param>
    /// <param name="evaluate">Scores the policy's current weights, higher is better (e.g. mean reward on held-out
    /// prompts). Called on W_e and on each candidate of an attempt; without it the first method's largest jump length
    /// is applied unguarded.</param>
    /// <exception cref="JumpedHandlerException">A <see cref="Jumped"/> handler threw; the jump itself is done and recorded.</exception>
    public StepOutcome Step(long step, Func<double>? evaluate = null) =>
        StepAsync(step, evaluate is null ? null : (_, _) => ValueTask.FromResult<GuardScore>(evaluate()), null).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// <see cref="Step(long, Func{double}?)"/> with a guard that knows what it scores: <paramref name="evaluate"/> is told
    /// which weights it scores (<see cref="GuardContext"/>) and may report a standard error (<see cref="GuardScore"/>), which
    /// <see cref="AlphaRLOptions.GuardNoiseZ"/> turns into a margin for noise.
    /// </summary>
    /// <param name="step">Optimizer steps trained so far; must increase.</param>
    /// <param name="evaluate">Scores the policy's live weights, higher is better.</param>
    /// <param name="current">A score of the current weights (W_e) the loop already measured at this step; when given, W_e
    /// is not evaluated again.</param>
    public StepOutcome Step(long step, Func<GuardContext, GuardScore> evaluate, GuardScore? current = null)
    {
        ArgumentNullException.ThrowIfNull(evaluate);
        return StepAsync(step, (c, _) => ValueTask.FromResult(evaluate(c)), current).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Asynchronous form of <see cref="Step(long, Func{double}?)"/>, for evaluations that generate or call out.</summary>
    public ValueTask<StepOutcome> StepAsync(long step, Func<CancellationToken, ValueTask<double>>? evaluate, CancellationToken cancellationToken = default) =>
        StepAsync(step, evaluate is null ? null : async (_, ct) => await evaluate(ct).ConfigureAwait(false), null, cancellationToken);

    /// <summary>Asynchronous form of <see cref="Step(long, Func{GuardContext, GuardScore}, GuardScore?)"/>.</summary>
    /// <param name="step">Optimizer steps trained so far; must increase.</param>
    /// <param name="evaluate">Scores the policy's live weights; null: jumps are applied unguarded.</param>
    /// <param name="current">A score of W_e the loop already has; when given, W_e is not evaluated again.</param>
    /// <param name="cancellationToken">Passed to the evaluation; cancelling restores W_e.</param>
    public async ValueTask<StepOutcome> StepAsync(long step, Func<GuardContext, CancellationToken, ValueTask<GuardScore>>? evaluate, GuardScore? current,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_start is null) Begin(step <= _options.SnapshotInterval ? 0 : step - 1);
        if (step <= _lastStep)
            throw new ArgumentOutOfRangeException(nameof(step), step, step == _start
                ? $"Step {step} is the session's start step (W0 is the policy at step {_start}): pass the steps trained after it, starting at {_start + 1}."
                : $"Steps must increase: step {step} follows step {_lastStep}.");
        long previous = _lastStep;
        _lastStep = step;
        long effective = step + _skipped;
        long sinceWindow = step - _windowStartTrained;
        bool due = sinceWindow % _options.SnapshotInterval == 0;
        bool jumpsSpent = _options.MaxJumps > 0 && JumpsKept >= _options.MaxJumps;
        // The latest snapshot step at or before this one; past the previous call's step, this call stepped over it.
        long latestSnapshotStep = _windowStartTrained + sinceWindow / _options.SnapshotInterval * _options.SnapshotInterval;
        if (!due && !jumpsSpent && !_missedSnapshotWarned && latestSnapshotStep > previous)
        {
            _missedSnapshotWarned = true;
            Log.MissedSnapshot(_logger, step, previous, latestSnapshotStep, _options.SnapshotInterval, _windowStartTrained);
        }
        if (!due || jumpsSpent)
            return new StepOutcome(step, effective, StepAction.None, _tracker.Steps.Count, null, null);

        var overheadAtStart = _overhead.Elapsed;
        _overhead.Start();
        try
        {
            var started = Stopwatch.GetTimestamp();
            using (var activity = AlphaRLTelemetry.Source.StartActivity("alpharl.snapshot"))
            {
                activity?.SetTag(_metrics.SessionTag.Key, _metrics.SessionTag.Value);
                activity?.SetTag("alpharl.step", step);
                activity?.SetTag("alpharl.effective_step", effective);
                RebindParameters();
                _tracker.Observe(effective);
                _sketch.Observe(effective);
                foreach (var m in _methods) m.Observe(effective);
                if (_tracker.Steps.Count > _options.MaxSnapshots)
                {
                    _tracker.KeepNewest(_options.MaxSnapshots);
                    _sketch.KeepNewest(_options.MaxSnapshots);
                }
                activity?.SetTag("alpharl.snapshots", _tracker.Steps.Count);
            }
            var snapshotTime = Stopwatch.GetElapsedTime(started);
            _metrics.Snapshot(snapshotTime);
            _snapshotsSinceAttempt++;
            int count = _tracker.Steps.Count;
            Log.Snapshot(_logger, count, effective, snapshotTime.TotalMilliseconds);
            bool repeated = _options.Schedule == JumpSchedule.Repeated;
            // OnFit: after a rejected jump, wait for MinSnapshots new snapshots before judging again (each try costs evaluations).
            bool judge = repeated ? count >= _options.MinSnapshots
                : count >= _options.MinSnapshots && !(_snapshotsSinceAttempt < _options.MinSnapshots && _jumps.Count > 0 && !_jumps[^1].Kept);
            if (!judge)
                return new StepOutcome(step, effective, StepAction.Snapshot, count, null, null);

            var fits = _tracker.Covered.Select(m => _extrapolator.Fit(m.Name, _tracker.Snapshots(m.Name))).ToList();
            var quality = FitQuality.Combine(fits.Select(f => f.HoldOut));
            var diagnostics = Diagnose(quality);
            _metrics.Diagnostics(diagnostics);
            Log.Diagnostics(_logger, effective, diagnostics.StepNormTrend, diagnostics.VelocityCosine, diagnostics.Rank1EnergyShare, diagnostics.HeldOutFitError);
            bool fitsWell = quality.RelativeError <= _options.FitThreshold;
            bool attempt = _options.MaxJumps != 0 && (repeated || fitsWell);
            var plan = attempt ? Plan(effective, evaluate is not null) : [];
            Log.Judged(_logger, count, effective, quality.RelativeError, quality.Cosine, _options.FitThreshold,
                _options.MaxJumps == 0 ? "jumps are off" : !attempt ? "not fitting yet" : plan.Count == 0 ? "no candidate beyond the window"
                : $"trying {plan.Count} candidate(s) up to step {plan.Max(c => c.TargetStep)}");
            StepOutcome Judged(StepAction action)
            {
                if (repeated) NewWindow(step, effective);
                return new StepOutcome(step, effective, action, _tracker.Steps.Count, quality, null, diagnostics);
            }
            if (!attempt) return Judged(StepAction.Snapshot);
            if (plan.Count == 0)
            {
                Log.TargetPassed(_logger, _options.TargetStep ?? effective, effective);
                return Judged(StepAction.Snapshot);
            }
            if (_options.SkipWhenBending && diagnostics.Bends(_options.MinVelocityCosine, _options.MinStepNormTrend) is { } reason)
            {
                Log.JumpSkipped(_logger, effective, reason);
                _metrics.SkippedBending();
                return Judged(StepAction.JumpSkipped);
            }
            _overhead.Stop();

            JumpOutcome jump;
            using (var activity = AlphaRLTelemetry.Source.StartActivity("alpharl.jump"))
            {
                activity?.SetTag(_metrics.SessionTag.Key, _metrics.SessionTag.Value);
                activity?.SetTag("alpharl.step", step);
                activity?.SetTag("alpharl.from_step", effective);
                activity?.SetTag("alpharl.candidates", plan.Count);
                jump = await TryJumpAsync(step, effective, plan, quality, diagnostics, evaluate, current, cancellationToken).ConfigureAwait(false);
                activity?.SetTag("alpharl.target_step", jump.TargetStep);
                activity?.SetTag("alpharl.method", jump.Method);
                activity?.SetTag("alpharl.length", jump.Length);
                activity?.SetTag("alpharl.kept", jump.Kept);
                activity?.SetTag("alpharl.evaluations", jump.Evaluations);
            }
            _jumps.Add(jump);
            _metrics.Attempt(jump);
            _snapshotsSinceAttempt = 0;
            if (jump.Kept)
            {
                _skipped += jump.StepsSkipped;
                NewWindow(step, jump.TargetStep);
            }
            else if (repeated) NewWindow(step, effective);
            var outcome = new StepOutcome(step, step + _skipped, jump.Kept ? StepAction.JumpKept : StepAction.JumpRejected, _tracker.Steps.Count, quality, jump, diagnostics);
            RaiseJumped(outcome);
            return outcome;
        }
        finally
        {
            _overhead.Stop();
            _metrics.Overhead(_overhead.Elapsed - overheadAtStart);
        }
    }

    /// <summary>Calls the <see cref="Jumped"/> handlers once the state is complete; a handler's exception is logged and wrapped with the outcome.</summary>
    private void RaiseJumped(StepOutcome outcome)
    {
        try
        {
            Jumped?.Invoke(this, outcome.Jump!);
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_logger, e, outcome.Step, outcome.Jump!.Kept ? "kept" : "rejected");
            throw new JumpedHandlerException(outcome, e);
        }
    }

    /// <summary>Fixes where the session starts: W0 is the policy at trained step <paramref name="start"/>.</summary>
    private void Begin(long start)
    {
        _start = start;
        _lastStep = start;
        _windowStartTrained = start;
        _windowStartEffective = start;
        foreach (var m in _methods) m.Reset(start);
    }

    /// <summary>
    /// The candidates of one attempt, smallest lengths first (methods in order within a length), capped by
    /// MaxEvaluationsPerWindow; unguarded, the first method's largest length alone. Empty when nothing lies beyond e.
    /// </summary>
    private List<PlannedCandidate> Plan(long last, bool guarded)
    {
        long windowLength = last - _windowStartEffective;
        if (windowLength <= 0) return [];
        List<double> lengths;
        if (_options.TargetStep is { } target)
        {
            if (target <= last) return [];
            lengths = [(double)(target - last) / windowLength];
        }
        else lengths = _options.JumpLengths.Where(j => j > 0).Distinct().Order().ToList();
        if (!guarded) lengths = [lengths.Max()];
        var plan = new List<PlannedCandidate>();
        foreach (double j in lengths)
            for (int m = 0; m < (guarded ? _methods.Count : 1); m++)
            {
                long to = _options.TargetStep ?? JumpGeometry.Target(last, _windowStartEffective, j);
                // Lengths that round to the same step would only repeat a candidate.
                if (to > last && !plan.Any(c => c.Method == m && c.TargetStep == to)) plan.Add(new PlannedCandidate(m, j, to));
            }
        if (_options.MaxEvaluationsPerWindow is { } cap && plan.Count > cap - 1) plan.RemoveRange(cap - 1, plan.Count - (cap - 1));
        return plan;
    }

    private async ValueTask<JumpOutcome> TryJumpAsync(long step, long from, List<PlannedCandidate> plan, FitQuality quality, PathDiagnostics diagnostics,
        Func<GuardContext, CancellationToken, ValueTask<GuardScore>>? evaluate, GuardScore? current, CancellationToken cancellationToken)
    {
        var result = await GuardedSelection.RunAsync(_methods, plan, evaluate, evaluate is null ? null : current, step, from,
            _options.GuardTolerance, _options.GuardNoiseZ, _guardFloors, _options.KeepBackupOnCpu, _overhead,
            () => { _evaluations++; _metrics.Evaluated(); }, _logger, cancellationToken).ConfigureAwait(false);
        var chosen = result.Chosen!;
        double? before = result.ScoreBefore?.Mean;
        if (result.Kept)
            Log.JumpKept(_logger, from, chosen.TargetStep, chosen.Method, chosen.Length, evaluate is null ? "unguarded" : "guarded", before, chosen.Score, result.Evaluations);
        else
            Log.JumpRejected(_logger, from, chosen.TargetStep, chosen.Method, chosen.Length, before, chosen.Score, _options.GuardTolerance, _options.GuardNoiseZ, result.Evaluations);
        return new JumpOutcome(step, from, chosen.TargetStep, result.Kept, evaluate is not null, before, chosen.Score, quality,
            _tracker.Covered.Count, result.BuildTime, result.EvaluationTime, chosen.Method, chosen.Length, result.Evaluations, result.Candidates, diagnostics)
        {
            StandardErrorBefore = result.ScoreBefore?.StandardError,
            ScoreBeforeGiven = evaluate is not null && current is not null,
        };
    }

    /// <summary>The window's path diagnostics from the sketches' Gram matrix and the tracker's last snapshots.</summary>
    private PathDiagnostics Diagnose(FitQuality quality)
    {
        double sigma = 0, norm = 0;
        foreach (var name in _tracker.Matrices)
        {
            var last = _tracker.Snapshots(name)[^1];
            sigma += (double)last.Sigma * last.Sigma;
            norm += (double)last.UpdateNorm * last.UpdateNorm;
        }
        double energy = norm > 0 ? sigma / norm : double.NaN;
        // Steps counted from the session's start, so that where a run starts does not change the numbers.
        var steps = _sketch.Steps.Select(s => s - SessionStart).ToArray();
        return steps.Length >= 3
            ? PathDiagnostics.FromGram(_sketch.Gram(), steps, energy, quality.RelativeError)
            : new PathDiagnostics(double.NaN, double.NaN, energy, quality.RelativeError);
    }

    /// <summary>Starts a new window at trained step <paramref name="trained"/>, effective step <paramref name="effectiveStart"/>.</summary>
    private void NewWindow(long trained, long effectiveStart)
    {
        _windowStartTrained = trained;
        _windowStartEffective = effectiveStart;
        _tracker.Clear();
        _sketch.Clear();
        foreach (var m in _methods) m.Reset(effectiveStart);
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
        foreach (var m in _methods) m.Dispose();
        _sketch?.Dispose();
        _tracker?.Dispose();
        _metrics.Dispose();
    }
}

/// <summary>
/// A <see cref="AlphaRLSession.Jumped"/> handler threw. The jump it was told about is complete and recorded (kept
/// weights stay, a rejected jump's weights were restored, the session's counters and window are updated), so the run
/// can go on; <see cref="Outcome"/> is what Step would have returned, and the handler's exception is the inner exception.
/// </summary>
public sealed class JumpedHandlerException : AlphaRlException
{
    internal JumpedHandlerException(StepOutcome outcome, Exception inner)
        : base($"A Jumped handler threw after the jump at step {outcome.Step} ({outcome.Jump!.FromStep} -> {outcome.Jump.TargetStep}) was {(outcome.Jump.Kept ? "kept" : "rejected")}; the jump is done and recorded, and the session's state is consistent. See the inner exception.", inner)
        => Outcome = outcome;

    /// <summary>The outcome of the step at which the handler threw.</summary>
    public StepOutcome Outcome { get; }
}
