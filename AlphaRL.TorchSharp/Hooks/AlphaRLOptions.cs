using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using AlphaRl.TorchSharp.Jumps;
using System.Text.Json.Serialization;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp;

/// <summary>
/// Settings of an AlphaRL session: the window policy (when to snapshot, when the window "fits"), where to jump,
/// the guard, and which parameters are covered. Every setting has a documented default; invalid values are
/// reported together, each naming the setting and its value (<see cref="AlphaRLOptionsValidator"/>).
/// </summary>
public sealed class AlphaRLOptions
{
    // The defaults of the jump methods and the grid, in one place.
    internal static IReadOnlyList<JumpMethodOptions> DefaultMethods() => [new VelocityJumpOptions()];

    private static List<double> DefaultJumpLengths() => [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8];

    /// <summary>
    /// The paper's method, one name away: the rank-1 line (<see cref="Rank1LineJumpOptions"/>) and a single jump to
    /// window start + <paramref name="targetMultiple"/> × window length (JumpLengths = [0, targetMultiple − 1]),
    /// judged when the window fits (<see cref="JumpSchedule.OnFit"/>). Other settings keep their defaults.
    /// </summary>
    /// <param name="targetMultiple">Where to jump, in window lengths from the window's start; default 3.</param>
    public static AlphaRLOptions Paper(double targetMultiple = 3.0) => new()
    {
        Methods = [new Rank1LineJumpOptions()],
        JumpLengths = [0, targetMultiple - 1],
        TargetMultiple = targetMultiple,
        Schedule = JumpSchedule.OnFit,
    };

    /// <summary>
    /// The trained step the policy stands at when the session starts (W0's step), e.g. 1000 when attaching to a run
    /// resumed from a checkpoint at step 1000. Snapshots fall on StartStep + k × <see cref="SnapshotInterval"/> and window
    /// lengths count from it. Default null: the first <see cref="AlphaRLSession.Step(long, Func{double}?)"/> call decides —
    /// a first step within the first snapshot interval (1 to SnapshotInterval) means the session started at 0; a later
    /// first step s means it started at s − 1 (W0 is the policy before that step).
    /// </summary>
    public long? StartStep { get; set; }

    /// <summary>Optimizer steps between two snapshots. Default 10.</summary>
    public int SnapshotInterval { get; set; } = 10;

    /// <summary>Snapshots a window needs before its fit is judged. At least 3 (two to fit, one held out). Default 4.</summary>
    public int MinSnapshots { get; set; } = 4;

    /// <summary>Snapshots kept at most; beyond this the oldest is dropped (a sliding window). Default 16.</summary>
    public int MaxSnapshots { get; set; } = 16;

    /// <summary>
    /// The window "fits" when the pooled out-of-sample relative error of the rank-1 predictions (fit on the earlier
    /// snapshots, predict the later ones) is at most this. Default 0.10.
    /// </summary>
    public double FitThreshold { get; set; } = 0.10;

    /// <summary>Share of the window's latest snapshots held out to judge the fit. Default 0.25 (at least one).</summary>
    public double HoldOutFraction { get; set; } = 0.25;

    /// <summary>
    /// The paper's target, window start + multiple × window length, as <see cref="Paper(double)"/> sets it up
    /// (JumpLengths = [0, multiple − 1]). The jumps actually tried are set by <see cref="JumpLengths"/>; this setting is
    /// kept for the preset and validated (greater than 1). Default 3.
    /// </summary>
    public double TargetMultiple { get; set; } = 3.0;

    /// <summary>
    /// An absolute effective step to jump to: each method then proposes a single candidate reaching it (its length
    /// derived as (T − e)/L), instead of the <see cref="JumpLengths"/> grid. Default none.
    /// </summary>
    public long? TargetStep { get; set; }

    /// <summary>
    /// The jump methods proposing candidates, tried in this order. Empty (the default) means [<see cref="VelocityJumpOptions"/>]
    /// with its defaults, so <c>Methods = { new DirectionJumpOptions() }</c> yields that method alone.
    /// </summary>
    public IList<JumpMethodOptions> Methods { get; set; } = new List<JumpMethodOptions>();

    /// <summary>
    /// Jump lengths j to propose, in window lengths L = e − s (s: the step the window began at, e: its last snapshot),
    /// so a candidate reaches T = e + j·L. 0 (stay at W_e) is always included, even if omitted. Each must be finite
    /// and 0 or more. Default [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8] (chosen by the speedup benchmark: docs/evidence.md).
    /// </summary>
    public IList<double> JumpLengths { get; set; } = DefaultJumpLengths();

    /// <summary>
    /// Evaluations per jump attempt at most, including the one of W_e (j = 0); at least 2. When the grid holds more
    /// candidates, the smallest lengths are evaluated first (for equal lengths, methods in <see cref="Methods"/> order).
    /// Default null: every candidate.
    /// </summary>
    public int? MaxEvaluationsPerWindow { get; set; }

    /// <summary>When jumps are tried. Default <see cref="JumpSchedule.OnFit"/>.</summary>
    public JumpSchedule Schedule { get; set; } = JumpSchedule.OnFit;

    /// <summary>Kept jumps at most; after each kept jump a new window starts. 0 only tracks. Default 1.</summary>
    public int MaxJumps { get; set; } = 1;

    /// <summary>
    /// The best candidate is kept when its evaluation is at least that of W_e minus this. Default 0 (no worse at all);
    /// a negative value demands a gain of at least its magnitude (e.g. −0.01: one point above W_e, beyond noise).
    /// </summary>
    public double GuardTolerance { get; set; }

    /// <summary>
    /// How many standard errors of the difference a candidate may fall below W_e and still be kept, when the
    /// evaluation reports its uncertainty (<see cref="GuardScore.StandardError"/>): the best candidate a is kept when
    /// a.Mean ≥ before.Mean − <see cref="GuardTolerance"/> − GuardNoiseZ · √(se_before² + se_a²). 0 (the default) ignores
    /// the standard errors; 1.64 rejects only a jump that is worse beyond noise at about 95% one-sided confidence.
    /// Must be finite and 0 or more.
    /// </summary>
    public double GuardNoiseZ { get; set; }

    /// <summary>
    /// Floors on secondary metrics the evaluation reports beside its score (<see cref="GuardScore.Metrics"/>), by name:
    /// a candidate is kept only if its score passes the guard's rule and each named metric is at or above its floor;
    /// candidates below a floor are never chosen. E.g. <c>{ ["format_c"] = 0.98 }</c> with an evaluation returning
    /// <c>GuardScore(taskReward).WithMetric("format_c", formatCAccuracy)</c> keeps a jump only if it gains on the task
    /// without forgetting format C below 0.98. Default empty (no floors). Floors must be finite.
    /// </summary>
    public IDictionary<string, double> GuardFloors { get; set; } = new Dictionary<string, double>(StringComparer.Ordinal);

    /// <summary>
    /// Skip the attempt (no evaluation spent, <see cref="StepAction.JumpSkipped"/>) when the window's diagnostics say the
    /// path bends: <see cref="AlphaRl.Extrapolation.PathDiagnostics.VelocityCosine"/> below <see cref="MinVelocityCosine"/>
    /// or <see cref="AlphaRl.Extrapolation.PathDiagnostics.StepNormTrend"/> below <see cref="MinStepNormTrend"/>. Default false.
    /// </summary>
    public bool SkipWhenBending { get; set; }

    /// <summary>With <see cref="SkipWhenBending"/>: the least velocity cosine between the window's halves that still counts as straight. Default 0.9.</summary>
    public double MinVelocityCosine { get; set; } = 0.9;

    /// <summary>With <see cref="SkipWhenBending"/>: the least step-norm trend (second half over first) that still counts as steady. Default 0.5.</summary>
    public double MinStepNormTrend { get; set; } = 0.5;

    /// <summary>How the rank-1 prediction becomes weights (<see cref="Rank1LineJumpOptions.Form"/> when that is not set). Default <see cref="JumpForm.Increment"/>: W_e + (x̂ − x_e) v_eᵀ.</summary>
    public JumpForm JumpForm { get; set; } = JumpForm.Increment;

    /// <summary>
    /// What happens to trainable tensors that are not covered (embeddings, head, norms, biases) at a rank-1 jump
    /// (<see cref="Rank1LineJumpOptions.Uncovered"/> when that is not set). Default <see cref="UncoveredTensors.Keep"/>: they keep W_e's values.
    /// </summary>
    public UncoveredTensors Uncovered { get; set; } = UncoveredTensors.Keep;

    /// <summary>
    /// The trajectory fit. Default (null): a least-squares line in the step (<see cref="StepLineExtrapolator"/>).
    /// <see cref="MetricPlsExtrapolator"/> fits against a metric you record per snapshot step instead.
    /// </summary>
    [JsonIgnore]
    public IExtrapolator? Extrapolator { get; set; }

    /// <summary>Keep the copy of W0 in host memory instead of on the parameters' device. Default false.</summary>
    public bool KeepBaseOnCpu { get; set; }

    /// <summary>Keep the one copy of the pre-jump weights (for an exact restore between and after candidates) in host memory. Default false.</summary>
    public bool KeepBackupOnCpu { get; set; }

    /// <summary>Regular expressions; when any is given, a parameter is covered only if its name matches one (and it is a trainable 2-D tensor).</summary>
    public IList<string> IncludePatterns { get; set; } = new List<string>();

    /// <summary>Regular expressions of parameter names never covered, applied after the default rule or the include patterns.</summary>
    public IList<string> ExcludePatterns { get; set; } = new List<string>();

    /// <summary>A predicate that replaces the default rule and the patterns entirely; it is offered only trainable 2-D tensors.</summary>
    [JsonIgnore]
    public Func<string, Parameter, bool>? Cover { get; set; }

    /// <summary>Settings of the warm-started power iteration for the top singular triplet.</summary>
    public PowerIterationOptions PowerIteration { get; set; } = PowerIterationOptions.Default;

    /// <summary>
    /// A deep copy: the lists (<see cref="Methods"/>, <see cref="JumpLengths"/>, <see cref="GuardFloors"/>, the patterns) and every jump method's
    /// options are copied, so changing this object afterwards does not change the copy. <see cref="Extrapolator"/> and
    /// <see cref="Cover"/> are shared (an extrapolator is used, not changed; a delegate cannot be copied).
    /// </summary>
    public AlphaRLOptions Clone()
    {
        var copy = (AlphaRLOptions)MemberwiseClone();
        copy.Methods = Methods?.Select(m => m?.Clone()!).ToList()!;
        copy.JumpLengths = JumpLengths?.ToList()!;
        copy.GuardFloors = GuardFloors is null ? null! : new Dictionary<string, double>(GuardFloors, StringComparer.Ordinal);
        copy.IncludePatterns = IncludePatterns?.ToList()!;
        copy.ExcludePatterns = ExcludePatterns?.ToList()!;
        return copy;
    }
}

/// <summary>What a jump does to trainable tensors that AlphaRL does not cover.</summary>
public enum UncoveredTensors
{
    /// <summary>They keep the values they have at the end of the window (W_e).</summary>
    Keep,

    /// <summary>
    /// A plain linear extrapolation from the window: W_T = W_e + (T − e)/(e − s) · (W_e − W_s), where s is the window's
    /// first snapshot. Costs one copy of the uncovered tensors, taken at that snapshot.
    /// </summary>
    Extrapolate,
}

/// <summary>When the session tries a jump.</summary>
public enum JumpSchedule
{
    /// <summary>
    /// Once the window has <see cref="AlphaRLOptions.MinSnapshots"/> snapshots, judge it at every snapshot and try a jump
    /// when the rank-1 fit's held-out error is within <see cref="AlphaRLOptions.FitThreshold"/>; the window slides up to
    /// <see cref="AlphaRLOptions.MaxSnapshots"/>. After a rejection, wait MinSnapshots new snapshots. A new window starts after a kept jump.
    /// </summary>
    OnFit,

    /// <summary>
    /// Blocks of <see cref="AlphaRLOptions.MinSnapshots"/> snapshots: at each block's end try the guarded jump whatever the
    /// fit says (unless <see cref="AlphaRLOptions.SkipWhenBending"/> refuses), then start a new window at the effective step
    /// reached, kept or not, until <see cref="AlphaRLOptions.MaxJumps"/> jumps are kept (RL-Extra's alternation, guarded).
    /// </summary>
    Repeated,
}
