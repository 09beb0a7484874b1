using System.Diagnostics.Metrics;
using AlphaRl.Extrapolation;

namespace AlphaRl.TorchSharp;

/// <summary>
/// The session's <see cref="System.Diagnostics.Metrics"/> instruments, on a <see cref="Meter"/> named "AlphaRL" (one per
/// session, disposed with it), so any OpenTelemetry pipeline listening to "AlphaRL" sees them with no extra code.
/// </summary>
internal sealed class AlphaRLMetrics : IDisposable
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "AlphaRL";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _tried, _kept, _bending, _evaluations, _stepsSkipped;
    private readonly Histogram<double> _trend, _cosine, _energy, _fitError;

    public AlphaRLMetrics()
    {
        _tried = _meter.CreateCounter<long>("alpharl.jumps.tried", description: "Jump attempts that evaluated candidates (kept or rejected).");
        _kept = _meter.CreateCounter<long>("alpharl.jumps.kept", description: "Jump attempts whose best candidate was kept.");
        _bending = _meter.CreateCounter<long>("alpharl.jumps.skipped_bending", description: "Jump attempts skipped because the path bends.");
        _evaluations = _meter.CreateCounter<long>("alpharl.evaluations", description: "Calls of the caller's evaluation, W_e's included.");
        _stepsSkipped = _meter.CreateCounter<long>("alpharl.steps.skipped", unit: "{step}", description: "Effective steps gained by kept jumps.");
        _trend = _meter.CreateHistogram<double>("alpharl.path.step_norm_trend", description: "Second-half over first-half step norm per window (< 1: slowing down).");
        _cosine = _meter.CreateHistogram<double>("alpharl.path.velocity_cosine", description: "Cosine between the window halves' velocities (< 0.9: turning).");
        _energy = _meter.CreateHistogram<double>("alpharl.path.rank1_energy_share", description: "Pooled s1^2 / ||dW||_F^2 at the window's last snapshot.");
        _fitError = _meter.CreateHistogram<double>("alpharl.path.heldout_fit_error", description: "Pooled held-out relative error of the rank-1 line.");
    }

    public void Diagnostics(PathDiagnostics d)
    {
        Record(_trend, d.StepNormTrend);
        Record(_cosine, d.VelocityCosine);
        Record(_energy, d.Rank1EnergyShare);
        Record(_fitError, d.HeldOutFitError);
    }

    public void Evaluated() => _evaluations.Add(1);

    public void SkippedBending() => _bending.Add(1);

    public void Attempt(JumpOutcome jump)
    {
        _tried.Add(1);
        if (!jump.Kept) return;
        _kept.Add(1);
        _stepsSkipped.Add(jump.StepsSkipped);
    }

    private static void Record(Histogram<double> histogram, double value)
    {
        if (double.IsFinite(value)) histogram.Record(value);
    }

    public void Dispose() => _meter.Dispose();
}
