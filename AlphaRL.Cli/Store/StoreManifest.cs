namespace AlphaRl.Cli;

/// <summary>One recorded checkpoint in a store's manifest.</summary>
/// <param name="Step">Training step.</param>
/// <param name="Directory">Full path of the checkpoint folder it was recorded from.</param>
/// <param name="Fingerprint">Hash of the folder's weight files' names, lengths and headers (<see cref="SnapshotStore.Fingerprint"/>).</param>
/// <param name="File">Name of the store file holding its snapshots.</param>
internal sealed record StoreStep(long Step, string Directory, string Fingerprint, string File);

/// <summary>A covered matrix of a store.</summary>
internal sealed record StoreMatrix(string Name, int Rows, int Cols);

/// <summary>
/// The velocity's running sums over the store's window (<see cref="StoredVelocity"/>): the step scalars of
/// <see cref="AlphaRl.Extrapolation.VelocityClock"/> and the file holding each covered matrix's mean and co-moment
/// (null before the window's first checkpoint).
/// </summary>
internal sealed record StoreVelocity(int Count, double MeanStep, double StepComoment, string? File);

/// <summary>
/// The manifest, <c>store.json</c>. <c>Velocity</c> holds the velocity's running sums (null when the store keeps none:
/// recorded with <c>--velocity off</c>, or by an older version); <c>WindowStart</c> is the step the current window
/// began at (null: the base step), and only checkpoints after it are fitted.
/// </summary>
internal sealed record StoreManifest(int Version, string Base, long BaseStep, string BaseFingerprint,
    IReadOnlyList<string> Include, IReadOnlyList<string> Exclude, IReadOnlyList<StoreMatrix> Matrices, IReadOnlyList<StoreStep> Steps,
    StoreVelocity? Velocity = null, long? WindowStart = null)
{
    /// <summary>The step the current window began at: where its steps are measured from.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public long Origin => WindowStart ?? BaseStep;

    /// <summary>The recorded checkpoints of the current window (after <see cref="Origin"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<StoreStep> WindowSteps => WindowStart is { } start ? Steps.Where(s => s.Step > start).ToList() : Steps;
}
