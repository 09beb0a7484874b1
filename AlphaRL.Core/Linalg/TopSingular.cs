using System.Numerics.Tensors;

namespace AlphaRl.Linalg;

/// <summary>
/// Top singular triplet of a dense row-major float matrix by power iteration on AᵀA, in pure .NET
/// (SIMD through <see cref="TensorPrimitives"/>). Each iteration reads the matrix twice; a warm start from the
/// previous snapshot's V makes a few iterations enough. Used by offline tools that run without TorchSharp.
/// </summary>
/// <remarks>Hand-written because it is the product's core operation: no .NET library offers a warm-started
/// top-1 SVD on spans, and a full SVD costs hundreds of times more.</remarks>
public static class TopSingular
{
    /// <summary>Computes the top singular triplet of <paramref name="matrix"/> (row-major, rows × cols).</summary>
    /// <param name="matrix">The matrix, row-major, exactly rows·cols values.</param>
    /// <param name="rows">Number of rows (length of U).</param>
    /// <param name="cols">Number of columns (length of V).</param>
    /// <param name="warmStartV">Optional start vector for V (length cols), e.g. the previous snapshot's V.</param>
    /// <param name="options">Tolerance and iteration cap; <see cref="PowerIterationOptions.Default"/> when null.</param>
    /// <exception cref="ArgumentException">Shapes do not match or the matrix holds NaN or infinity.</exception>
    public static SingularTriplet Compute(ReadOnlySpan<float> matrix, int rows, int cols,
        ReadOnlySpan<float> warmStartV = default, PowerIterationOptions? options = null)
    {
        options ??= PowerIterationOptions.Default;
        if (rows <= 0 || cols <= 0)
            throw new ArgumentException($"Matrix shape must be positive; got {rows}×{cols}.", nameof(rows));
        if (matrix.Length != (long)rows * cols)
            throw new ArgumentException($"Matrix holds {matrix.Length} values but its shape {rows}×{cols} needs {(long)rows * cols}.", nameof(matrix));
        if (!warmStartV.IsEmpty && warmStartV.Length != cols)
            throw new ArgumentException($"Warm-start vector has length {warmStartV.Length}; the matrix has {cols} columns.", nameof(warmStartV));

        var v = new float[cols];
        if (warmStartV.IsEmpty || TensorPrimitives.Norm(warmStartV) == 0f || !float.IsFinite(TensorPrimitives.Norm(warmStartV)))
            FillRandomUnit(v, options.Seed);
        else
            TensorPrimitives.Divide(warmStartV, TensorPrimitives.Norm(warmStartV), v);

        var u = new float[rows];
        var w = new float[cols];
        float sigma = 0f;
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            MultiplyInto(matrix, rows, cols, v, u);
            float uNorm = TensorPrimitives.Norm(u);
            if (!float.IsFinite(uNorm))
                throw new ArgumentException("Matrix holds NaN or infinity; its top singular triplet is undefined.", nameof(matrix));
            if (uNorm == 0f)
                return new SingularTriplet(0f, UnitBasis(rows), v, iteration, Converged: true);
            TensorPrimitives.Divide(u, uNorm, u);

            MultiplyTransposedInto(matrix, rows, cols, u, w);
            sigma = TensorPrimitives.Norm(w);
            TensorPrimitives.Divide(w, sigma, w);
            float change = TensorPrimitives.Distance<float>(w, v);
            (v, w) = (w, v);
            if (change < options.Tolerance)
                return new SingularTriplet(sigma, u, v, iteration, Converged: true);
        }
        return new SingularTriplet(sigma, u, v, options.MaxIterations, Converged: false);
    }

    /// <summary>u = A v for a row-major A.</summary>
    internal static void MultiplyInto(ReadOnlySpan<float> matrix, int rows, int cols, ReadOnlySpan<float> v, Span<float> u)
    {
        for (int i = 0; i < rows; i++)
            u[i] = TensorPrimitives.Dot(matrix.Slice(i * cols, cols), v);
    }

    /// <summary>w = Aᵀ u for a row-major A, accumulated row by row so the matrix is read in order.</summary>
    internal static void MultiplyTransposedInto(ReadOnlySpan<float> matrix, int rows, int cols, ReadOnlySpan<float> u, Span<float> w)
    {
        w.Clear();
        for (int i = 0; i < rows; i++)
            TensorPrimitives.MultiplyAdd(matrix.Slice(i * cols, cols), u[i], w, w);
    }

    internal static void FillRandomUnit(Span<float> v, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < v.Length; i++) v[i] = (float)(random.NextDouble() * 2.0 - 1.0);
        TensorPrimitives.Divide(v, TensorPrimitives.Norm(v), v);
    }

    private static float[] UnitBasis(int length)
    {
        var e = new float[length];
        e[0] = 1f;
        return e;
    }
}
