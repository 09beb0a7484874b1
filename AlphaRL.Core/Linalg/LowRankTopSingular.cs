namespace AlphaRl.Linalg;

/// <summary>
/// The top singular triplet and Frobenius norm of a matrix given by its low-rank factors, M = scale · B A with
/// B [rows × r] and A [r × cols] (a LoRA update), found without forming M: thin QR of B and of Aᵀ (B = Q_B R_B,
/// Aᵀ = Q_A R_A), then the r × r core C = scale · R_B R_Aᵀ, whose singular values are M's
/// (M = Q_B C Q_Aᵀ with orthonormal Q's). The cost is O((rows + cols) r² + r³) against O(rows · cols · r) just to
/// form M (and a pass over rows · cols values per power iteration after that), with O((rows + cols) r) memory.
/// All arithmetic is in double.
/// </summary>
internal static class LowRankTopSingular
{
    /// <summary>The top triplet of scale · B A, with <see cref="SingularTriplet.MatrixNorm"/> = ‖scale · B A‖_F.</summary>
    /// <param name="b">B, row-major, rows·rank values.</param>
    /// <param name="a">A, row-major, rank·cols values.</param>
    /// <param name="rows">Rows of M (and of B).</param>
    /// <param name="cols">Columns of M (and of A).</param>
    /// <param name="rank">Inner dimension r.</param>
    /// <param name="scale">The factor in front of B A.</param>
    /// <exception cref="ArgumentException">The factors do not have the shapes given.</exception>
    /// <exception cref="AlphaRLException">A factor holds NaN or infinity, or s1 leaves the float32 range.</exception>
    public static SingularTriplet Compute(ReadOnlySpan<float> b, ReadOnlySpan<float> a, int rows, int cols, int rank, double scale)
    {
        if (rows <= 0 || cols <= 0 || rank <= 0)
            throw new ArgumentException($"Factor shapes must be positive; got {rows}×{rank} and {rank}×{cols}.", nameof(rank));
        if (b.Length != (long)rows * rank || a.Length != (long)rank * cols)
            throw new ArgumentException($"B holds {b.Length} values and A {a.Length}, but {rows}×{rank} and {rank}×{cols} need {(long)rows * rank} and {(long)rank * cols}.");
        // Columns of B are B[:, k]; columns of Aᵀ are the rows of A.
        var qb = new double[rank][];
        var qa = new double[rank][];
        for (int k = 0; k < rank; k++)
        {
            qb[k] = new double[rows];
            for (int i = 0; i < rows; i++) qb[k][i] = b[i * rank + k];
            qa[k] = new double[cols];
            for (int j = 0; j < cols; j++) qa[k][j] = a[k * cols + j];
        }
        var rb = ThinQr(qb);
        var ra = ThinQr(qa);
        // C = scale · R_B R_Aᵀ.
        var core = new double[rank, rank];
        double normSq = 0;
        for (int i = 0; i < rank; i++)
            for (int j = 0; j < rank; j++)
            {
                double s = 0;
                for (int k = 0; k < rank; k++) s += rb[i, k] * ra[j, k];
                core[i, j] = scale * s;
                normSq += core[i, j] * core[i, j];
            }
        if (!double.IsFinite(normSq))
            throw new AlphaRLException("The factors hold NaN or infinity, or their product leaves the double range; the top singular triplet is undefined.");
        if (normSq == 0)
            return new SingularTriplet(0f, Basis(rows), Basis(cols), 0, Converged: true) { MatrixNorm = 0f };

        // The top right singular vector of C is the top eigenvector of CᵀC; then s1 = ‖C v‖ and u = C v / s1.
        var gram = new double[rank, rank];
        for (int i = 0; i < rank; i++)
            for (int j = 0; j < rank; j++)
            {
                double s = 0;
                for (int k = 0; k < rank; k++) s += core[k, i] * core[k, j];
                gram[i, j] = s;
            }
        var vc = TopSingular.TopEigenvector(gram);
        var uc = new double[rank];
        double sigmaSq = 0;
        for (int i = 0; i < rank; i++)
        {
            for (int k = 0; k < rank; k++) uc[i] += core[i, k] * vc[k];
            sigmaSq += uc[i] * uc[i];
        }
        double sigma = Math.Sqrt(sigmaSq);
        if (sigma > float.MaxValue || Math.Sqrt(normSq) > float.MaxValue)
            throw new AlphaRLException($"The top singular value {sigma:G4} of the product is beyond the float32 range.");
        for (int i = 0; i < rank; i++) uc[i] /= sigma;
        return new SingularTriplet((float)sigma, Expand(qb, uc, rows), Expand(qa, vc, cols), 0, Converged: true) { MatrixNorm = (float)Math.Sqrt(normSq) };
    }

    /// <summary>Thin QR by modified Gram-Schmidt, applied twice for orthogonality: <paramref name="columns"/> become
    /// Q's columns in place; returns R (upper triangular). A column in the span of the earlier ones becomes zero, with a
    /// zero row in R, so that Q R is still the input and a zero column of Q meets only zeros of the core.</summary>
    private static double[,] ThinQr(double[][] columns)
    {
        int r = columns.Length;
        var rr = new double[r, r];
        for (int k = 0; k < r; k++)
        {
            var q = columns[k];
            double original = Norm(q);
            for (int pass = 0; pass < 2; pass++)
                for (int j = 0; j < k; j++)
                {
                    double dot = 0;
                    var qj = columns[j];
                    for (int i = 0; i < q.Length; i++) dot += qj[i] * q[i];
                    rr[j, k] += dot;
                    for (int i = 0; i < q.Length; i++) q[i] -= dot * qj[i];
                }
            double norm = Norm(q);
            // What is left of a dependent column is rounding noise: drop it rather than amplify it into a unit vector.
            if (norm <= 1e-13 * original || norm == 0)
            {
                Array.Clear(q);
                continue;
            }
            rr[k, k] = norm;
            for (int i = 0; i < q.Length; i++) q[i] /= norm;
        }
        return rr;
    }

    private static double Norm(double[] x)
    {
        double s = 0;
        foreach (double v in x) s += v * v;
        return Math.Sqrt(s);
    }

    /// <summary>Q c as floats: the r-dimensional core vector taken back to the full space.</summary>
    private static float[] Expand(double[][] q, double[] c, int length)
    {
        var x = new double[length];
        for (int k = 0; k < c.Length; k++)
            for (int i = 0; i < length; i++) x[i] += q[k][i] * c[k];
        return Array.ConvertAll(x, v => (float)v);
    }

    private static float[] Basis(int length)
    {
        var e = new float[length];
        e[0] = 1;
        return e;
    }
}
