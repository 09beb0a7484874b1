using AlphaRl.Jumps;
namespace AlphaRl.Cli;

/// <summary>When <c>watch</c> tries a jump: once, when the window fits (the hook's OnFit), or at the end of every window
/// of <see cref="WatchOptions.MinSnapshots"/> checkpoints (the hook's Repeated).</summary>
internal enum WatchSchedule { OnFit, Repeated }

/// <summary>What <c>watch</c> does, with the online hook's defaults and rules where they apply (<see cref="JumpDefaults"/>,
/// <see cref="GuardRule"/>).</summary>
internal sealed record WatchOptions(string RunDirectory, string? Base, string Store, string Out)
{
    public long? BaseStep { get; init; }
    public MatrixSelection? Selection { get; init; }
    public int MinSnapshots { get; init; } = JumpDefaults.MinSnapshots;
    public double FitThreshold { get; init; } = JumpDefaults.FitThreshold;

    /// <summary>The jump method: the hook's default, the per-weight velocity, or the paper's rank-1 line.</summary>
    public JumpMethod Method { get; init; } = JumpMethod.Velocity;

    /// <summary>Jump lengths j in window lengths L = e − s, s where the window began (the base, or the previous attempt).</summary>
    public IReadOnlyList<double> Lengths { get; init; } = JumpDefaults.Lengths;

    /// <summary>Predict this step alone instead of the lengths.</summary>
    public long? TargetStep { get; init; }

    public string? ScoreCommand { get; init; }
    public double ScoreTimeoutSeconds { get; init; } = 3600;
    public double Tolerance { get; init; }
    public double NoiseZ { get; init; }
    public IReadOnlyDictionary<string, double> Floors { get; init; } = new Dictionary<string, double>();

    public WatchSchedule Schedule { get; init; } = WatchSchedule.OnFit;


    /// <summary>Checkpoints at the start of every window left out of the velocity (the hook's <c>VelocityJumpOptions.SkipSnapshots</c>).</summary>
    public int SkipSnapshots { get; init; }

    /// <summary>With <see cref="WatchSchedule.Repeated"/>: stop once this many jumps were kept (null: keep watching).</summary>
    public int? MaxJumps { get; init; }

    /// <summary>The JSON record of an attempt (every candidate's score and the one kept); default <c>OUT.json</c>.</summary>
    public string? Json { get; init; }

    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan? ExitAfter { get; init; }

    /// <summary>How long a checkpoint folder's files must have been left alone before it is read (the trainer may still
    /// be writing its tokenizer or optimizer files after the weights).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);
}
