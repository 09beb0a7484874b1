using Microsoft.Extensions.Logging;

namespace AlphaRl.TorchSharp;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "AlphaRL covers {Covered} matrices ({Elements} weights); {Excluded} parameters are not covered")]
    public static partial void Coverage(ILogger logger, int covered, long elements, int excluded);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "AlphaRL does not cover {Parameter}: {Reason}")]
    public static partial void NotCovered(ILogger logger, string parameter, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Snapshot {Count} at effective step {Step} took {Milliseconds:F1} ms")]
    public static partial void Snapshot(ILogger logger, int count, long step, double milliseconds);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Window of {Count} snapshots ending at step {Step}: held-out relative error {Error:F4}, cosine {Cosine:F4} (threshold {Threshold}); {Verdict}")]
    public static partial void Judged(ILogger logger, int count, long step, double error, double cosine, double threshold, string verdict);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Jump kept: step {From} -> {Target} by {Method} j={Length} ({Guard}, score {Before} -> {After}, {Evaluations} evaluations)")]
    public static partial void JumpKept(ILogger logger, long from, long target, string method, double length, string guard, double? before, double? after, int evaluations);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Jump rejected by the guard: best candidate step {From} -> {Target} ({Method} j={Length}) scored {After} against {Before} (tolerance {Tolerance}, noise z {Z}, {Evaluations} evaluations); weights restored")]
    public static partial void JumpRejected(ILogger logger, long from, long target, string method, double length, double? before, double? after, double tolerance, double z, int evaluations);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Target step {Target} is not beyond the window's end at step {Step}; no jump")]
    public static partial void TargetPassed(ILogger logger, long target, long step);

    [LoggerMessage(EventId = 8, Level = LogLevel.Information, Message = "Window ending at step {Step}: step-norm trend {Trend:F3}, velocity cosine {Cosine:F3}, rank-1 energy share {Energy:F3}, held-out fit error {Error:F4}")]
    public static partial void Diagnostics(ILogger logger, long step, double trend, double cosine, double energy, double error);

    [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "Jump at step {Step} skipped, no evaluation spent: {Reason}")]
    public static partial void JumpSkipped(ILogger logger, long step, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Candidate {Method} j={Length} (step {Target}) scored {Score}")]
    public static partial void Candidate(ILogger logger, string method, double length, long target, double score);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Step {Step} (after step {Previous}) stepped over the snapshot step {Missed} without a Step call on it: snapshots fall on the window start {WindowStart} + multiples of Snapshots.Interval ({Interval}). Call Step on those steps (or every step), or set AlphaRLOptions.Snapshots.StartStep; this warning is logged once")]
    public static partial void MissedSnapshot(ILogger logger, long step, long previous, long missed, int interval, long windowStart);

    [LoggerMessage(EventId = 12, Level = LogLevel.Error, Message = "A Jumped handler threw at step {Step} after the jump was {Verdict}; the jump is recorded and the session's state is consistent")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, long step, string verdict);

    [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "AlphaRL session state saved to {Folder} at step {Step}")]
    public static partial void Saved(ILogger logger, string folder, long step);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "AlphaRL session resumed from {Folder} at step {Step} (started at step {Start}, {Snapshots} snapshots in the window, {Jumps} jumps tried)")]
    public static partial void Resumed(ILogger logger, string folder, long step, long start, int snapshots, int jumps);

    [LoggerMessage(EventId = 15, Level = LogLevel.Warning, Message = "The policy's covered weights are not the ones the session saved in {Folder} at step {Step}: load the policy's checkpoint of that step before AlphaRL.Resume, or the resumed run will not continue the saved one")]
    public static partial void WeightsDiffer(ILogger logger, string folder, long step);
}
