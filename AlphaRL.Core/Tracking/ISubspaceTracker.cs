namespace AlphaRl.Tracking;

/// <summary>
/// Keeps, per covered matrix, the sign-aligned rank-1 snapshots (t, s1, u1, v1) of its cumulative update over the
/// current window. Implementations differ in where updates come from (spans in <see cref="SubspaceTracker"/>,
/// TorchSharp parameters in the TorchSharp adapter); all store O(m + n) per matrix per snapshot.
/// </summary>
public interface ISubspaceTracker
{
    /// <summary>Names of the matrices tracked, in the order they were first seen.</summary>
    IReadOnlyList<string> Matrices { get; }

    /// <summary>Snapshots of one matrix in the current window, oldest first.</summary>
    /// <exception cref="KeyNotFoundException">The matrix is not tracked.</exception>
    IReadOnlyList<Rank1Snapshot> Snapshots(string matrix);

    /// <summary>Steps at which snapshots were taken in the current window, oldest first.</summary>
    IReadOnlyList<long> Steps { get; }

    /// <summary>Bytes held by all snapshots of the current window.</summary>
    long StorageBytes { get; }

    /// <summary>Forgets the current window's snapshots (for example after a jump) and starts a new one.</summary>
    void Clear();
}
