using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlphaRl.Extrapolation;
using AlphaRl.Tracking;
using AlphaRl.TorchSharp.Jumps;
using AlphaRl.TorchSharp.Session;
using AlphaRl.TorchSharp.Tracking;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

/// <summary>
/// AlphaRL attached to one policy: call <see cref="Step(long, Func{double}?)"/> after every optimizer step. A pipeline of
/// parts, each with its own settings and state: the clock says which steps are snapshot steps
/// (<see cref="AlphaRLOptions.Snapshots"/>); the window snapshots the covered matrices and feeds the jump methods; the
/// schedule says when a jump is tried (<see cref="AlphaRLOptions.Attempts"/>); the planner turns jump lengths into
/// candidates (<see cref="AlphaRLOptions.Jumps"/>); the guard keeps the best candidate only if the caller's evaluation
/// says it is no worse than W_e (<see cref="AlphaRLOptions.Guard"/>). Not thread-safe: call it from the training loop.
/// Disposing it frees W0, the snapshots and the methods' state.
/// </summary>
/// <example>
/// <code>
/// var options = new AlphaRLOptions
/// {
///     Snapshots = { Interval = 5 },
///     Attempts = { Schedule = JumpSchedule.Repeated, MaxJumps = 10 },
///     Jumps = { Lengths = [0, 0.5, 1, 2] },
/// };   // or AlphaRLOptions.Paper()
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
    private readonly SessionServices _services;
    private readonly ILogger _logger;
    private readonly IExtrapolator _extrapolator;
    private readonly SnapshotClock _clock;
    private readonly SnapshotWindow _window = null!;
    private readonly AttemptSchedule _schedule;
    private readonly CandidatePlanner _planner;
    private readonly GuardedSelection _guard;
    private readonly AlphaRLMetrics _metrics;
    private readonly Stopwatch _overhead = new();
    private readonly List<JumpOutcome> _jumps = new();
    private TimeSpan _overheadBefore;
    private long _skipped;
    private long _evaluations;
    private bool _disposed;

    internal AlphaRLSession(nn.Module policy, AlphaRLOptions options, SessionServices? services = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(options);
        // The session owns its settings: later changes to the caller's object have no effect.
        options = options.Clone();
        AlphaRLOptionsValidator.ThrowIfInvalid(options);
        _policy = policy;
        _options = options;
#pragma warning disable CS0618 // behaviour set through the obsolete options members is still honoured
        _services = (services ?? new SessionServices()) with
        {
            Extrapolator = services?.Extrapolator ?? options.Extrapolator,
            Cover = services?.Cover ?? options.Cover,
        };
#pragma warning restore CS0618
        Name = name ?? "";
        _logger = _services.Logger ?? NullLogger.Instance;
        _metrics = new AlphaRLMetrics(_services.MeterFactory, Name);
        var fit = _services.Extrapolator ?? new StepLineExtrapolator { HoldOutFraction = options.Attempts.HoldOutFraction };
        // The step line is fitted on steps counted from the session's start, so where a run starts does not change the numbers.
        _extrapolator = fit is StepLineExtrapolator ? new ShiftedExtrapolator(fit, () => SessionStart) : fit;
        _clock = new SnapshotClock(options.Snapshots, _logger);
        _schedule = new AttemptSchedule(options.Attempts);
        _planner = new CandidatePlanner(options.Jumps);
        _guard = new GuardedSelection(options.Guard, _logger);
        Coverage = ParameterCoverage.Select(policy, options.Coverage, _services.Cover);
        if (Coverage.Covered.Count == 0)
            throw new AlphaRLException("AlphaRL found no parameter to cover in this module: " +
                string.Join("; ", Coverage.Excluded.Take(8).Select(e => $"{e.Name}: {e.Reason}")) +
                ". Name attention/MLP weights as an LLM does (q_proj, up_proj, ...) or set AlphaRLOptions.Coverage.Include or SessionServices.Cover.");
        Log.Coverage(_logger, Coverage.Covered.Count, Coverage.Covered.Sum(c => (long)c.Rows * c.Cols), Coverage.Excluded.Count);
        foreach (var e in Coverage.Excluded) Log.NotCovered(_logger, e.Name, e.Reason);
        var tracker = new TorchSubspaceTracker(Coverage.Covered, options.Snapshots.KeepBaseOnCpu, options.Snapshots.PowerIteration);
        var methods = new List<IJumpMethod>();
        try
        {
            var context = new JumpMethodContext(tracker, _extrapolator, UncoveredTrainable, options.Snapshots.KeepBaseOnCpu);
            foreach (var m in options.Jumps.Effective) methods.Add(m.Create(context));
            _window = new SnapshotWindow(tracker, methods, options.Snapshots.Max, () => SessionStart);
        }
        catch
        {
            foreach (var m in methods) m.Dispose();
            tracker.Dispose();
            _metrics.Dispose();
            throw;
        }
        if (options.Snapshots.StartStep is { } start) Begin(start);
    }

    /// <summary>Raised after every jump that was tried, kept or rejected, once the session's state is updated. Reset
    /// optimizer moments here after a kept jump. A handler that throws does not undo anything: Step then throws a
    /// <see cref="JumpedHandlerException"/> carrying the step's outcome.</summary>
    public event EventHandler<JumpOutcome>? Jumped;

    /// <summary>The session's name: the DI options name it was created with ("" otherwise); tags its metrics and spans.</summary>
    public string Name { get; }

    /// <summary>A copy of the settings in effect (copied and validated when the session started; changing it changes nothing).</summary>
    public AlphaRLOptions Options => _options.Clone();

    /// <summary>The trained step the session started at (W0's step): <see cref="SnapshotOptions.StartStep"/>, or decided by
    /// the first <see cref="Step(long, Func{double}?)"/>; null before that.</summary>
    public long? StartStep => _clock.Start;

    /// <summary>The last trained step passed to Step (the start step before any).</summary>
    public long LastStep => _clock.LastStep;

    /// <summary>Effective step at which the session begins (W0's step); 0 until known.</summary>
    private long SessionStart => _clock.Start ?? 0;

    /// <summary>Which parameters are covered and why the others are not.</summary>
    public ParameterCoverage Coverage { get; }

    /// <summary>Names of the covered parameters.</summary>
    public IReadOnlyList<string> Covered => _window.Tracker.Matrices;

    /// <summary>The tracker holding the current window's snapshots.</summary>
    public ISubspaceTracker Tracker => _window.Tracker;

    /// <summary>Every jump tried so far.</summary>
    public IReadOnlyList<JumpOutcome> Jumps => _jumps;

    /// <summary>Kept jumps so far.</summary>
    public int JumpsKept => _jumps.Count(j => j.Kept);

    /// <summary>Effective steps gained by kept jumps.</summary>
    public long StepsSkipped => _skipped;

    /// <summary>Time spent inside AlphaRL (snapshots, fits, building, applying and restoring jumps), excluding the caller's evaluations.</summary>
    public TimeSpan OverheadTime => _overheadBefore + _overhead.Elapsed;

    /// <summary>Calls of the caller's evaluation so far, W_e's included.</summary>
    public long Evaluations => _evaluations;

    /// <summary>The jump methods in effect, in the order their candidates are tried (e.g. ["velocity"]).</summary>
    public IReadOnlyList<string> Methods => _window.Methods.Select(m => m.Name).ToList();

    /// <summary>Bytes AlphaRL holds between steps: W0 copies, snapshots, the diagnostics' sketches and the methods' state
    /// (the one backup taken during a jump attempt comes on top and is freed after it).</summary>
    public long MemoryBytes => _window.MemoryBytes;

    /// <summary>The part of <see cref="MemoryBytes"/> in host memory whatever the parameters' device: W0's copies with
    /// <see cref="SnapshotOptions.KeepBaseOnCpu"/>, the rank-1 snapshots' vectors, and a method's state kept on the CPU
    /// (<see cref="Jumps.VelocityJumpOptions.StateOnCpu"/>). The rest lives on the parameters' device.</summary>
    public long HostMemoryBytes => _window.HostMemoryBytes;

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
    /// <see cref="GuardOptions.NoiseZ"/> turns into a margin for noise.
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
        if (_clock.Start is null) Begin(_clock.StartBefore(step));
        bool spent = _schedule.Spent(JumpsKept);
        bool due = _clock.Advance(step, quiet: spent);
        long effective = step + _skipped;
        if (!due || spent)
            return new StepOutcome(step, effective, StepAction.None, _window.Count, null, null);

        var overheadAtStart = _overhead.Elapsed;
        _overhead.Start();
        try
        {
            Snapshot(step, effective);
            _schedule.Snapshotted();
            int count = _window.Count;
            if (!_schedule.Judge(count, _jumps.Count > 0 && !_jumps[^1].Kept))
                return new StepOutcome(step, effective, StepAction.Snapshot, count, null, null);

            var quality = FitQuality.Combine(_window.Fit(_extrapolator).Select(f => f.HoldOut));
            var diagnostics = _window.Diagnose(quality);
            _metrics.Diagnostics(diagnostics);
            Log.Diagnostics(_logger, effective, diagnostics.StepNormTrend, diagnostics.VelocityCosine, diagnostics.Rank1EnergyShare, diagnostics.HeldOutFitError);
            bool attempt = _schedule.Attempt(quality);
            var plan = attempt ? _planner.Plan(_window.Start, effective, _window.Methods.Count, evaluate is not null) : [];
            Log.Judged(_logger, count, effective, quality.RelativeError, quality.Cosine, _schedule.FitThreshold,
                _schedule.JumpsOff ? "jumps are off" : !attempt ? "not fitting yet" : plan.Count == 0 ? "no candidate beyond the window"
                : $"trying {plan.Count} candidate(s) up to step {plan.Max(c => c.TargetStep)}");
            StepOutcome Judged(StepAction action)
            {
                if (_schedule.Repeated) NewWindow(step, effective);
                return new StepOutcome(step, effective, action, _window.Count, quality, null, diagnostics);
            }
            if (!attempt) return Judged(StepAction.Snapshot);
            if (plan.Count == 0)
            {
                Log.TargetPassed(_logger, _planner.TargetStep ?? effective, effective);
                return Judged(StepAction.Snapshot);
            }
            if (_schedule.Skip(diagnostics) is { } reason)
            {
                Log.JumpSkipped(_logger, effective, reason);
                _metrics.SkippedBending();
                return Judged(StepAction.JumpSkipped);
            }
            _overhead.Stop();

            var jump = await _guard.AttemptAsync(_window, plan, step, quality, diagnostics, evaluate, current, _overhead,
                () => { _evaluations++; _metrics.Evaluated(); }, _metrics.SessionTag, cancellationToken).ConfigureAwait(false);
            _jumps.Add(jump);
            _metrics.Attempt(jump);
            _schedule.Attempted();
            if (jump.Kept)
            {
                _skipped += jump.StepsSkipped;
                NewWindow(step, jump.TargetStep);
            }
            else if (_schedule.Repeated) NewWindow(step, effective);
            var outcome = new StepOutcome(step, step + _skipped, jump.Kept ? StepAction.JumpKept : StepAction.JumpRejected, _window.Count, quality, jump, diagnostics);
            RaiseJumped(outcome);
            return outcome;
        }
        finally
        {
            _overhead.Stop();
            _metrics.Overhead(_overhead.Elapsed - overheadAtStart);
        }
    }

    /// <summary>Snapshots the window at <paramref name="effective"/>, traced and timed.</summary>
    private void Snapshot(long step, long effective)
    {
        var started = Stopwatch.GetTimestamp();
        using (var activity = AlphaRLTelemetry.Source.StartActivity("alpharl.snapshot"))
        {
            activity?.SetTag(_metrics.SessionTag.Key, _metrics.SessionTag.Value);
            activity?.SetTag("alpharl.step", step);
            activity?.SetTag("alpharl.effective_step", effective);
            _window.Rebind(_policy);
            _window.Observe(effective);
            activity?.SetTag("alpharl.snapshots", _window.Count);
        }
        var time = Stopwatch.GetElapsedTime(started);
        _metrics.Snapshot(time);
        Log.Snapshot(_logger, _window.Count, effective, time.TotalMilliseconds);
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
        _clock.Begin(start);
        _window.Clear(start);
    }

    /// <summary>Starts a new window at trained step <paramref name="trained"/>, effective step <paramref name="effectiveStart"/>.</summary>
    private void NewWindow(long trained, long effectiveStart)
    {
        _clock.NewWindow(trained);
        _window.Clear(effectiveStart);
    }

    /// <summary>Trainable parameters the tracker does not cover (embeddings, head, norms, biases), in module order.</summary>
    private List<(string Name, global::TorchSharp.Modules.Parameter Parameter)> UncoveredTrainable()
    {
        var covered = Coverage.Covered.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        return _policy.named_parameters().Where(p => p.parameter.requires_grad && !covered.Contains(p.name)).ToList();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _window?.Dispose();
        _metrics.Dispose();
    }
}
