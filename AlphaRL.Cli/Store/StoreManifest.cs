namespace AlphaRl.Cli;

/// <summary>One recorded checkpoint in a store's manifest.</summary>
/// <param name="Step">Training step.</param>
/// <param name="Directory">Full path of the checkpoint folder it was recorded from.</param>
/// <param name="Fingerprint">Hash of the folder's weight files' names, lengths and headers (<see cref="SnapshotStore.Fingerprint"/>).</param>
/// <param name="File">Name of the store file holding its snapshots.</param>
internal sealed record StoreStep(long Step, string Directory, string Fingerprint, string File);

/// <summary>A covered matrix of a store.</summary>
internal sealed record StoreMatrix(string Name, int Rows, int Cols);

/// <summary>The manifest, <c>store.json</c>.</summary>
internal sealed record StoreManifest(int Version, string Base, long BaseStep, string BaseFingerprint,
    IReadOnlyList<string> Include, IReadOnlyList<string> Exclude, IReadOnlyList<StoreMatrix> Matrices, IReadOnlyList<StoreStep> Steps);
