namespace AlphaRl.Linalg;

/// <summary>The top singular triplet of a matrix: <c>A ≈ Value · U Vᵀ</c> with unit vectors U (rows) and V (columns).</summary>
/// <param name="Value">The largest singular value s1 (non-negative).</param>
/// <param name="U">Left singular vector, one entry per row, unit length.</param>
/// <param name="V">Right singular vector, one entry per column, unit length.</param>
/// <param name="Iterations">Iterations used, each one read of the matrix (A v and Aᵀ A v together); bounded by
/// <see cref="PowerIterationOptions.MaxIterations"/>.</param>
/// <param name="Converged">Whether the tolerance was met before the iteration cap.</param>
public sealed record SingularTriplet(float Value, float[] U, float[] V, int Iterations, bool Converged);

/// <summary>Settings of the warm-started power iteration that finds the top singular triplet.</summary>
public sealed record PowerIterationOptions
{
    /// <summary>Default settings: tolerance 1e-5 on the change of V, at most 300 iterations.</summary>
    public static PowerIterationOptions Default { get; } = new();

    /// <summary>Stop when the Euclidean change of the unit vector V between iterations falls below this. Default 1e-5.</summary>
    public float Tolerance { get; init; } = 1e-5f;

    /// <summary>Iteration cap. Default 300; a warm start from the previous snapshot usually needs a handful.</summary>
    public int MaxIterations { get; init; } = 300;

    /// <summary>Seed of the deterministic random start used when no warm start is given.</summary>
    public int Seed { get; init; } = 12345;
}
