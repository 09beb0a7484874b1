namespace AlphaRl.Checkpoints;

/// <summary>
/// A checkpoint file or folder is malformed or inconsistent: the message names the file and the problem (bad header
/// length, invalid JSON or UTF-8, unknown dtype, a byte range that does not match the shape, overlapping offsets,
/// duplicate names, a tensor whose shape differs between checkpoints...).
/// </summary>
public sealed class CheckpointFormatException : AlphaRLException
{
    /// <summary>Creates the exception for <paramref name="file"/> with a description of the problem.</summary>
    /// <param name="file">The file (or folder) at fault.</param>
    /// <param name="problem">What is wrong with it.</param>
    public CheckpointFormatException(string file, string problem) : base($"{file}: {problem}")
    {
        File = file;
        Problem = problem;
    }

    /// <summary>The file (or folder) at fault.</summary>
    public string File { get; }

    /// <summary>The problem, without the file name.</summary>
    public string Problem { get; }
}
