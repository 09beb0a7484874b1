using AlphaRl.Extrapolation;

namespace AlphaRl.Jumps;

/// <summary>
/// The defaults and the rules every front end applies to the window and the jumps (the hook's options, <c>predict</c>
/// and <c>watch</c>): one place, so the tools cannot drift apart. Each rule returns what is wrong, or null; the caller
/// names the setting in its own terms (an option's path, a command-line flag).
/// </summary>
public static class JumpDefaults
{
    /// <summary>Jump lengths proposed by default, in window lengths (chosen by the speedup benchmark: docs/evidence.md).</summary>
    public static IReadOnlyList<double> Lengths { get; } = [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8];

    /// <summary>Snapshots (or checkpoints) a window needs before its fit is judged.</summary>
    public const int MinSnapshots = 4;

    /// <summary>Largest pooled held-out relative error of the rank-1 line that counts as a fit.</summary>
    public const double FitThreshold = 0.10;

    /// <summary>Share of the window's latest snapshots held out to judge the fit.</summary>
    public const double HoldOutFraction = 0.25;

    /// <summary>The paper's target, window start + 3 window lengths.</summary>
    public const double PaperTargetMultiple = 3.0;

    /// <summary>Why <paramref name="value"/> cannot be a window's snapshot minimum, or null.</summary>
    public static string? CheckMinSnapshots(int value) =>
        value >= LineExtrapolator.MinimumSnapshots ? null : $"must be at least {LineExtrapolator.MinimumSnapshots} (two to fit, one to judge the fit out of sample)";

    /// <summary>Why <paramref name="value"/> cannot be a fit threshold, or null.</summary>
    public static string? CheckFitThreshold(double value) =>
        double.IsFinite(value) && value > 0 ? null : "must be a positive finite number (a relative error, e.g. 0.1)";

    /// <summary>Why <paramref name="value"/> cannot be a jump length, or null.</summary>
    public static string? CheckLength(double value) =>
        double.IsFinite(value) && value >= 0 ? null : "a jump length must be finite and 0 or more (in window lengths)";

    /// <summary>Why <paramref name="value"/> cannot be the paper's target multiple, or null.</summary>
    public static string? CheckTargetMultiple(double value) =>
        double.IsFinite(value) && value > 1 ? null : "must be greater than 1 (a jump goes beyond the window)";
}
