using AlphaRl.Extrapolation;
using AlphaRl.Jumps;

namespace AlphaRl.Cli;

/// <summary>What <c>predict</c> writes: one checkpoint for <see cref="TargetStep"/>, or one per jump length of <see cref="Lengths"/>,
/// optionally scored by <see cref="ScoreCommand"/> with only the best kept.</summary>
internal sealed record PredictOptions(SeriesOptions Series, long? TargetStep, string Out, JumpForm Form = JumpForm.Increment, string? Json = null)
{
    public JumpMethod Method { get; init; } = JumpMethod.Rank1;

    /// <summary>Whether <see cref="Method"/> was chosen (<c>--method</c> given): on an adapter series the default is velocity.</summary>
    public bool MethodChosen { get; init; }

    /// <summary>On an adapter series: write the base checkpoint in this folder with the predicted adapter merged into it
    /// (W + scale · B A for each target module), instead of the predicted adapter.</summary>
    public string? MergeInto { get; init; }

    /// <summary>Jump lengths j, in window lengths L = e − s: candidate targets e + j·L. Exclusive with <see cref="TargetStep"/>.</summary>
    public IReadOnlyList<double>? Lengths { get; init; }

    /// <summary>For velocity and direction: extrapolate every float tensor, not only the covered matrices.</summary>
    public bool AllTensors { get; init; }

    public string? ScoreCommand { get; init; }
    public double ScoreTimeoutSeconds { get; init; } = 3600;

    /// <summary>
    /// Floors on the secondary metrics the score command prints after the score: a jump candidate is kept only if each
    /// named metric is at or above its floor (W_e, j = 0, is always eligible). Needs <see cref="ScoreCommand"/>.
    /// </summary>
    public IReadOnlyDictionary<string, double> Floors { get; init; } = new Dictionary<string, double>();

    /// <summary>The guard's tolerance: a jump is kept when its score is at least W_e's minus this (and the noise margin).</summary>
    public double Tolerance { get; init; }

    /// <summary>The guard's noise z: standard errors (printed by the score command as <c>se=VALUE</c>) of the difference allowed.</summary>
    public double NoiseZ { get; init; }

    /// <summary>s, where the window began, for the jump lengths L = e − s (null: the first checkpoint; <c>watch</c> gives
    /// the store's window start, as the hook measures from where its window began).</summary>
    public long? WindowStart { get; init; }

    /// <summary>Compute only this shard's tensors and write them as a part beside <see cref="Out"/> (merged by <c>alpharl merge</c>).</summary>
    public ShardSpec? Shard { get; init; }

    /// <summary>Largest pooled held-out relative error of the rank-1 line that is written (the fit gate, <see cref="FitGate"/>);
    /// the hook's default.</summary>
    public double FitThreshold { get; init; } = JumpDefaults.FitThreshold;

    /// <summary>Write a rank-1 prediction whose fit fails the gate (a warning says so); values that are not finite or
    /// beyond the dtype's range are refused all the same.</summary>
    public bool Force { get; init; }
}
