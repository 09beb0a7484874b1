using System.Diagnostics;
using System.Diagnostics.Metrics;
using AlphaRl.Extrapolation;

namespace AlphaRl.TorchSharp;

/// <summary>
/// Names of AlphaRL's telemetry: a <see cref="Meter"/> and an <see cref="System.Diagnostics.ActivitySource"/>, both named
/// "AlphaRL", so an OpenTelemetry pipeline subscribes with <c>.AddMeter("AlphaRL")</c> and <c>.AddSource("AlphaRL")</c>.
/// Every measurement and span carries the tag <c>alpharl.session</c> (the session's name: the DI options name, or "" ).
/// </summary>
/// <remarks>
/// Instruments: <c>alpharl.snapshots</c>, <c>alpharl.jumps.tried</c>, <c>alpharl.jumps.kept</c>, <c>alpharl.jumps.rejected</c>,
/// <c>alpharl.jumps.skipped_bending</c>, <c>alpharl.evaluations</c>, <c>alpharl.steps.skipped</c> (counters);
/// <c>alpharl.overhead</c> (counter, seconds spent inside AlphaRL, evaluations excluded); <c>alpharl.snapshot.duration</c>
/// (histogram, seconds); and the window's path diagnostics as histograms. Spans: <c>alpharl.snapshot</c> per snapshot and
/// <c>alpharl.jump</c> per jump attempt (tags: steps, method, length, kept, evaluations).
/// </remarks>
public static class AlphaRLTelemetry
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "AlphaRL";

    /// <summary>The activity source of the snapshot and jump spans (shared by all sessions, as a library's source is).</summary>
    internal static readonly ActivitySource Source = new(Name, typeof(AlphaRLTelemetry).Assembly.GetName().Version?.ToString());
}

/// <summary>
/// The session's <see cref="System.Diagnostics.Metrics"/> instruments, on a <see cref="Meter"/> named "AlphaRL": created by
/// the <see cref="IMeterFactory"/> when one is given (DI), otherwise owned by the session and disposed with it.
/// </summary>
internal sealed class AlphaRLMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = AlphaRLTelemetry.Name;

    private readonly Meter _meter;
    private readonly bool _owned;
    private readonly KeyValuePair<string, object?> _session;
    private readonly Counter<long> _snapshots, _tried, _kept, _rejected, _bending, _evaluations, _stepsSkipped;
    private readonly Counter<double> _overhead;
    private readonly Histogram<double> _snapshotTime, _trend, _cosine, _energy, _fitError;

    public AlphaRLMetrics(IMeterFactory? factory = null, string? session = null)
    {
        _meter = factory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        _owned = factory is null;
        _session = new("alpharl.session", session ?? "");
        _snapshots = _meter.CreateCounter<long>("alpharl.snapshots", unit: "{snapshot}", description: "Snapshots taken.");
        _tried = _meter.CreateCounter<long>("alpharl.jumps.tried", description: "Jump attempts that evaluated candidates (kept or rejected).");
        _kept = _meter.CreateCounter<long>("alpharl.jumps.kept", description: "Jump attempts whose best candidate was kept.");
        _rejected = _meter.CreateCounter<long>("alpharl.jumps.rejected", description: "Jump attempts the guard rejected (weights restored).");
        _bending = _meter.CreateCounter<long>("alpharl.jumps.skipped_bending", description: "Jump attempts skipped because the path bends.");
        _evaluations = _meter.CreateCounter<long>("alpharl.evaluations", description: "Calls of the caller's evaluation, W_e's included.");
        _stepsSkipped = _meter.CreateCounter<long>("alpharl.steps.skipped", unit: "{step}", description: "Effective steps gained by kept jumps.");
        _overhead = _meter.CreateCounter<double>("alpharl.overhead", unit: "s", description: "Time spent inside AlphaRL (snapshots, fits, writing and restoring jumps), evaluations excluded.");
        _snapshotTime = _meter.CreateHistogram<double>("alpharl.snapshot.duration", unit: "s", description: "Time of one snapshot.");
        _trend = _meter.CreateHistogram<double>("alpharl.path.step_norm_trend", description: "Second-half over first-half step norm per window (< 1: slowing down).");
        _cosine = _meter.CreateHistogram<double>("alpharl.path.velocity_cosine", description: "Cosine between the window halves' velocities (< 0.9: turning).");
        _energy = _meter.CreateHistogram<double>("alpharl.path.rank1_energy_share", description: "Pooled s1^2 / ||dW||_F^2 at the window's last snapshot.");
        _fitError = _meter.CreateHistogram<double>("alpharl.path.heldout_fit_error", description: "Pooled held-out relative error of the rank-1 line.");
    }

    /// <summary>The session's name tag.</summary>
    public KeyValuePair<string, object?> SessionTag => _session;

    public void Snapshot(TimeSpan time)
    {
        _snapshots.Add(1, _session);
        _snapshotTime.Record(time.TotalSeconds, _session);
    }

    public void Overhead(TimeSpan time)
    {
        if (time > TimeSpan.Zero) _overhead.Add(time.TotalSeconds, _session);
    }

    public void Diagnostics(PathDiagnostics d)
    {
        Record(_trend, d.StepNormTrend);
        Record(_cosine, d.VelocityCosine);
        Record(_energy, d.Rank1EnergyShare);
        Record(_fitError, d.HeldOutFitError);
    }

    public void Evaluated() => _evaluations.Add(1, _session);

    public void SkippedBending() => _bending.Add(1, _session);

    public void Attempt(JumpOutcome jump)
    {
        var method = new KeyValuePair<string, object?>("alpharl.method", jump.Method);
        _tried.Add(1, _session, method);
        if (!jump.Kept)
        {
            _rejected.Add(1, _session, method);
            return;
        }
        _kept.Add(1, _session, method);
        _stepsSkipped.Add(jump.StepsSkipped, _session, method);
    }

    private void Record(Histogram<double> histogram, double value)
    {
        if (double.IsFinite(value)) histogram.Record(value, _session);
    }

    public void Dispose()
    {
        if (_owned) _meter.Dispose();
    }
}
