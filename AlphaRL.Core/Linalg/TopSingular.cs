using System.Numerics.Tensors;

namespace AlphaRl.Linalg;

/// <summary>
/// Top singular triplet of a dense row-major float matrix by power iteration on AᵀA, in pure .NET
/// (SIMD through <see cref="TensorPrimitives"/>). Each iteration reads the matrix once (A v and Aᵀ A v together); a warm start from the
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
            // One pass over the matrix per iteration: u = A v and w = Aᵀ u together, row by row.
            GramProductInto(matrix, rows, cols, v, u, w);
            float uNorm = TensorPrimitives.Norm(u);
            if (!float.IsFinite(uNorm))
                throw new ArgumentException("Matrix holds NaN or infinity; its top singular triplet is undefined.", nameof(matrix));
            if (uNorm == 0f)
                return new SingularTriplet(0f, UnitBasis(rows), v, iteration, Converged: true);
            TensorPrimitives.Divide(u, uNorm, u);

            sigma = TensorPrimitives.Norm(w) / uNorm; // ||Aᵀ u|| for the unit u
            TensorPrimitives.Divide(w, TensorPrimitives.Norm(w), w);
            float change = TensorPrimitives.Distance<float>(w, v);
            (v, w) = (w, v);
            if (change < options.Tolerance)
                return new SingularTriplet(sigma, u, v, iteration, Converged: true);
        }
        return new SingularTriplet(sigma, u, v, options.MaxIterations, Converged: false);
    }

    /// <summary>
    /// u = A v and w = Aᵀ A v = Σ_i u_i row_i in a single read of the row-major A: each row is dotted with v and,
    /// while it is still in L1, added into w. Half the memory traffic of A v followed by Aᵀ u.
    /// </summary>
    internal static void GramProductInto(ReadOnlySpan<float> matrix, int rows, int cols, ReadOnlySpan<float> v, Span<float> u, Span<float> w)
    {
        w.Clear();
        for (int i = 0; i < rows; i++)
        {
            var row = matrix.Slice(i * cols, cols);
            float ui = TensorPrimitives.Dot(row, v);
            u[i] = ui;
            TensorPrimitives.MultiplyAdd(row, ui, w, w);
        }
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
