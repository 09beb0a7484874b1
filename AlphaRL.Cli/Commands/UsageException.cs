namespace AlphaRl.Cli;

/// <summary>The command line is wrong (as opposed to the files): exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
