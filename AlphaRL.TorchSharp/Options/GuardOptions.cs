namespace AlphaRl.TorchSharp;

/// <summary>How the guard decides whether a candidate is kept (<see cref="AlphaRLOptions.Guard"/>).</summary>
public sealed class GuardOptions
{
    /// <summary>
    /// The best candidate is kept when its evaluation is at least that of W_e minus this. Default 0 (no worse at all);
    /// a negative value demands a gain of at least its magnitude (e.g. −0.01: one point above W_e, beyond noise).
    /// </summary>
    public double Tolerance { get; set; }

    /// <summary>
    /// How many standard errors of the difference a candidate may fall below W_e and still be kept, when the
    /// evaluation reports its uncertainty (<see cref="GuardScore.StandardError"/>): the best candidate a is kept when
    /// a.Mean ≥ before.Mean − <see cref="Tolerance"/> − NoiseZ · √(se_before² + se_a²). 0 (the default) ignores the
    /// standard errors; 1.64 rejects only a jump that is worse beyond noise at about 95% one-sided confidence.
    /// </summary>
    public double NoiseZ { get; set; }

    /// <summary>
    /// Floors on secondary metrics the evaluation reports beside its score (<see cref="GuardScore.Metrics"/>), by name:
    /// a candidate is kept only if its score passes the guard's rule and each named metric is at or above its floor;
    /// candidates below a floor are never chosen. E.g. <c>{ ["format_c"] = 0.98 }</c> with an evaluation returning
    /// <c>GuardScore(taskReward).WithMetric("format_c", formatCAccuracy)</c> keeps a jump only if it gains on the task
    /// without forgetting format C below 0.98. Default empty (no floors). Floors must be finite.
    /// </summary>
    public IDictionary<string, double> Floors { get; set; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>Keep the one copy of the pre-jump weights (for an exact restore between and after candidates) in host memory. Default false.</summary>
    public bool KeepBackupOnCpu { get; set; }

    internal void Validate(OptionErrors errors)
    {
        errors.Require(double.IsFinite(Tolerance), "Guard.Tolerance", Tolerance, "must be a finite number (negative: the jump must gain at least that much)");
        errors.Require(double.IsFinite(NoiseZ) && NoiseZ >= 0, "Guard.NoiseZ", NoiseZ, "must be a finite number of standard errors, 0 or more (0: ignore the evaluation's standard errors)");
        if (!errors.Require(Floors is not null, "Guard.Floors", Floors, "must be a dictionary (empty: no floors)")) return;
        foreach (var (metric, floor) in Floors!)
        {
            errors.Require(!string.IsNullOrWhiteSpace(metric), "Guard.Floors", metric, "names a metric with an empty name");
            errors.Require(double.IsFinite(floor), $"Guard.Floors[\"{metric}\"]", floor, "must be a finite floor");
        }
    }

    internal GuardOptions Clone()
    {
        var copy = (GuardOptions)MemberwiseClone();
        copy.Floors = Floors is null ? null! : new Dictionary<string, double>(Floors, StringComparer.Ordinal);
        return copy;
    }
}
