using System.Numerics.Tensors;
using AlphaRl.Extrapolation;

namespace AlphaRl.Linalg;

/// <summary>Top-k singular triplets by deflation: find the top triplet, subtract it, repeat. Enough for the small k
/// of the rank-k dominance experiment, where a full SVD would cost far more.</summary>
internal static class TopSingularDeflated
{
    /// <summary>The k largest singular triplets of a row-major matrix, largest first.</summary>
    public static IReadOnlyList<SingularTriplet> Compute(ReadOnlySpan<float> matrix, int rows, int cols, int k, PowerIterationOptions? options = null)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "Rank must be at least 1.");
        var residual = matrix.ToArray();
        var triplets = new List<SingularTriplet>(k);
        for (int i = 0; i < Math.Min(k, Math.Min(rows, cols)); i++)
        {
            var t = TopSingular.Compute(residual, rows, cols, default, options);
            triplets.Add(t);
            if (t.Value == 0f) break;
            var c = new float[rows];
            TensorPrimitives.Multiply(t.U, -t.Value, c);
            Rank1Jump.Apply(residual, rows, cols, c, t.V);
        }
        return triplets;
    }

    /// <summary>Overwrites <paramref name="update"/> with its rank-k approximation rescaled to the update's Frobenius norm:
    /// ‖dW‖_F · Σ s_i u_i v_iᵀ / √(Σ s_i²) (the paper's rank-1 experiment for k = 1).</summary>
    public static void ReplaceWithRescaledRankK(Span<float> update, int rows, int cols, int k, PowerIterationOptions? options = null)
    {
        float norm = TopSingular.FrobeniusNorm(update);
        var triplets = Compute(update, rows, cols, k, options);
        double kept = Math.Sqrt(triplets.Sum(t => (double)t.Value * t.Value));
        update.Clear();
        if (kept == 0) return;
        float scale = (float)(norm / kept);
        var c = new float[rows];
        foreach (var t in triplets)
        {
            TensorPrimitives.Multiply(t.U, t.Value * scale, c);
            Rank1Jump.Apply(update, rows, cols, c, t.V);
        }
    }
}
