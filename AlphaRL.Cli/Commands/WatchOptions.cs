namespace AlphaRl.Cli;

/// <summary>What <c>watch</c> does, with the online hook's defaults where they apply (AlphaRLOptions: MinSnapshots 4,
/// FitThreshold 0.10, TargetMultiple 3).</summary>
internal sealed record WatchOptions(string RunDirectory, string? Base, string Store, string Out)
{
    public long? BaseStep { get; init; }
    public MatrixSelection? Selection { get; init; }
    public int MinSnapshots { get; init; } = 4;
    public double FitThreshold { get; init; } = 0.10;
    public double TargetMultiple { get; init; } = 3.0;
    public long? TargetStep { get; init; }
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan? ExitAfter { get; init; }

    /// <summary>How long a checkpoint folder's files must have been left alone before it is read (the trainer may still
    /// be writing its tokenizer or optimizer files after the weights).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);
}
