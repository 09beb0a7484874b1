using AlphaRl.Jumps;
namespace AlphaRl.Cli;

/// <summary>What <c>watch</c> does, with the online hook's defaults and rules where they apply (<see cref="JumpDefaults"/>).</summary>
internal sealed record WatchOptions(string RunDirectory, string? Base, string Store, string Out)
{
    public long? BaseStep { get; init; }
    public MatrixSelection? Selection { get; init; }
    public int MinSnapshots { get; init; } = JumpDefaults.MinSnapshots;
    public double FitThreshold { get; init; } = JumpDefaults.FitThreshold;
    public double TargetMultiple { get; init; } = JumpDefaults.PaperTargetMultiple;
    public long? TargetStep { get; init; }
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan? ExitAfter { get; init; }

    /// <summary>How long a checkpoint folder's files must have been left alone before it is read (the trainer may still
    /// be writing its tokenizer or optimizer files after the weights).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);
}
