namespace AlphaRl.Cli;

/// <summary>What <c>analyze</c> reports, and the optional rank-k reconstruction it writes.</summary>
internal sealed record AnalyzeOptions(SeriesOptions Series, string? Json = null, int RankK = 1, long? ReconstructStep = null, string? ReconstructOut = null);
