namespace AlphaRl.Linalg;

/// <summary>The top singular triplet of a matrix: <c>A ≈ Value · U Vᵀ</c> with unit vectors U (rows) and V (columns).</summary>
/// <param name="Value">The largest singular value s1 (non-negative).</param>
/// <param name="U">Left singular vector, one entry per row, unit length.</param>
/// <param name="V">Right singular vector, one entry per column, unit length.</param>
/// <param name="Iterations">Iterations used, each one read of the matrix (A v and Aᵀ A v together); bounded by
/// <see cref="PowerIterationOptions.MaxIterations"/>.</param>
/// <param name="Converged">Whether the tolerance was met before the iteration cap.</param>
public sealed record SingularTriplet(float Value, float[] U, float[] V, int Iterations, bool Converged)
{
    /// <summary>Frobenius norm of the matrix, taken during the first read (the difference routines' ‖W_t − W0‖_F);
    /// NaN when the routine that made the triplet did not compute it.</summary>
    public float MatrixNorm { get; init; } = float.NaN;
}

/// <summary>Settings of the warm-started power iteration that finds the top singular triplet.</summary>
public sealed record PowerIterationOptions
{
    /// <summary>Default settings: from a warm start, <see cref="WarmPasses"/> reads of the matrix; from a cold start,
    /// iterate to a tolerance of 1e-5 on the change of V, at most 300 iterations.</summary>
    public static PowerIterationOptions Default { get; } = new();

    /// <summary>Iterate to the tolerance from a warm start too (<see cref="WarmPasses"/> = 0): for snapshots far apart,
    /// such as checkpoints read offline, where the previous V is only a good start, not a near answer.</summary>
    public static PowerIterationOptions Converged { get; } = new() { WarmPasses = 0 };

    /// <summary>Stop when the Euclidean change of the unit vector V between iterations falls below this. Default 1e-5.</summary>
    public float Tolerance { get; init; } = 1e-5f;

    /// <summary>Iteration cap. Default 300; a warm start from the previous snapshot usually needs a handful.</summary>
    public int MaxIterations { get; init; } = 300;

    /// <summary>
    /// Reads of the matrix when a warm start is given (0: iterate to <see cref="Tolerance"/> as from a cold start).
    /// The tracker follows a slowly moving matrix and warm-starts each snapshot from the previous one's V, so the
    /// iteration is carried across snapshots instead of converging from scratch each time. Default 3 (two locally
    /// optimal steps, the second with the previous step's direction, which handles a small s2/s1 gap): the smallest
    /// budget whose rank-1 jump stays within 1% of the jump from exact-SVD snapshots on the benchmark's llm-like run
    /// and on synthetic trajectories (2 passes: up to 15%); see docs/performance.md. With 1, a snapshot is a single
    /// power step (V = AᵀA v / ‖AᵀA v‖), the cheapest possible.
    /// </summary>
    public int WarmPasses { get; init; } = 3;

    /// <summary>Seed of the deterministic random start used when no warm start is given.</summary>
    public int Seed { get; init; } = 12345;
}
