using static TorchSharp.torch;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>The paper's rank-1 dominance experiment on a checkpoint: covered updates replaced by their rank-k part.</summary>
internal static class Properties
{
    /// <summary>
    /// W0 + dW_k for every covered matrix (dW = W_t − W0, dW_k its best rank-k part, rescaled to ‖dW‖_F when
    /// <paramref name="rescale"/>); every other tensor keeps W_t's value. k ≤ 0 means the full update.
    /// </summary>
    public static Weights RankK(Weights w0, Weights wt, ISet<string> covered, int k, bool rescale) =>
        wt.Select((name, t) =>
        {
            if (!covered.Contains(name) || k <= 0) return t.clone();
            using var scope = NewDisposeScope();
            // SVD needs float32 or wider: bf16 weights are decomposed in float32 and the result cast back (no-op for fp32).
            var delta = (t - w0.Tensors[name]).to(ScalarType.Float32);
            var (u, s, vh) = linalg.svd(delta, fullMatrices: false);
            int r = (int)Math.Min(k, s.shape[0]);
            var low = u.narrow(1, 0, r).matmul(s.narrow(0, 0, r).diag()).matmul(vh.narrow(0, 0, r));
            if (rescale)
            {
                double full = delta.norm().item<float>(), part = low.norm().item<float>();
                if (part > 0) low = low * (full / part);
            }
            return (w0.Tensors[name] + low).to(t.dtype).MoveToOuterDisposeScope();
        });

    /// <summary>s1² / ‖dW‖_F² of each covered matrix's update.</summary>
    public static double[] EnergyShares(Weights w0, Weights wt, IEnumerable<string> covered) =>
        covered.Select(name =>
        {
            using var scope = NewDisposeScope();
            var s = linalg.svdvals((wt.Tensors[name] - w0.Tensors[name]).to(ScalarType.Float64));
            var squares = s.pow(2);
            double total = squares.sum().item<double>();
            return total > 0 ? squares[0].item<double>() / total : double.NaN;
        }).ToArray();

    /// <summary>‖W_t − W0‖_F / ‖W0‖_F pooled over the covered matrices.</summary>
    public static double RelativeUpdate(Weights w0, Weights wt, IEnumerable<string> covered)
    {
        double update = 0, start = 0;
        foreach (string name in covered)
        {
            using var scope = NewDisposeScope();
            update += (wt.Tensors[name] - w0.Tensors[name]).to(ScalarType.Float64).pow(2).sum().item<double>();
            start += w0.Tensors[name].to(ScalarType.Float64).pow(2).sum().item<double>();
        }
        return Math.Sqrt(update / start);
    }
}
