using AlphaRl.Extrapolation;
using AlphaRl.Linalg;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp;

/// <summary>
/// Settings of an AlphaRL session: the window policy (when to snapshot, when the window "fits"), where to jump,
/// the guard, and which parameters are covered. Every setting has a documented default; invalid values are
/// reported together, each naming the setting and its value (<see cref="AlphaRLOptionsValidator"/>).
/// </summary>
public sealed class AlphaRLOptions
{
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
    /// Where to jump when <see cref="TargetStep"/> is not set: window start + multiple × window length, in effective
    /// steps. Default 3 (from a 40-step window starting at 0, jump to step 120).
    /// </summary>
    public double TargetMultiple { get; set; } = 3.0;

    /// <summary>An absolute effective step to jump to (overrides <see cref="TargetMultiple"/>). Default none.</summary>
    public long? TargetStep { get; set; }

    /// <summary>Kept jumps at most; after each kept jump a new window starts. 0 only tracks. Default 1.</summary>
    public int MaxJumps { get; set; } = 1;

    /// <summary>
    /// The guard rejects a jump when the evaluation of the jumped weights is below that of the weights before the
    /// jump by more than this. Default 0 (no worse at all).
    /// </summary>
    public double GuardTolerance { get; set; }

    /// <summary>How the prediction becomes weights. Default <see cref="JumpForm.Increment"/>: W_e + (x̂ − x_e) v_eᵀ.</summary>
    public JumpForm JumpForm { get; set; } = JumpForm.Increment;

    /// <summary>
    /// What happens to trainable tensors that are not covered (embeddings, head, norms, biases) at a jump.
    /// Default <see cref="UncoveredTensors.Keep"/>: they keep W_e's values.
    /// </summary>
    public UncoveredTensors Uncovered { get; set; } = UncoveredTensors.Keep;

    /// <summary>
    /// The trajectory fit. Default (null): a least-squares line in the step (<see cref="StepLineExtrapolator"/>).
    /// <see cref="MetricPlsExtrapolator"/> fits against a metric you record per snapshot step instead.
    /// </summary>
    public IExtrapolator? Extrapolator { get; set; }

    /// <summary>Keep the copy of W0 in host memory instead of on the parameters' device. Default false.</summary>
    public bool KeepBaseOnCpu { get; set; }

    /// <summary>Keep the copy of the pre-jump weights (for an exact restore) in host memory. Default false.</summary>
    public bool KeepBackupOnCpu { get; set; }

    /// <summary>Regular expressions; when any is given, a parameter is covered only if its name matches one (and it is a trainable 2-D tensor).</summary>
    public IList<string> IncludePatterns { get; set; } = new List<string>();

    /// <summary>Regular expressions of parameter names never covered, applied after the default rule or the include patterns.</summary>
    public IList<string> ExcludePatterns { get; set; } = new List<string>();

    /// <summary>A predicate that replaces the default rule and the patterns entirely; it is offered only trainable 2-D tensors.</summary>
    public Func<string, Parameter, bool>? Cover { get; set; }

    /// <summary>Settings of the warm-started power iteration for the top singular triplet.</summary>
    public PowerIterationOptions PowerIteration { get; set; } = PowerIterationOptions.Default;
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
