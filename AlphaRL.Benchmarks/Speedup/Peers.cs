using static TorchSharp.torch;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>
/// The published ways of jumping ahead that AlphaRL is compared with, applied to the full run's checkpoints of the
/// same window. Each acts on every trainable tensor, as its paper does.
/// </summary>
internal static class Peers
{
    /// <summary>Weight extrapolation (RL-Extra): W_T = W_B + (T − B)/(S − B) (W_S − W_B).</summary>
    public static Weights WeightExtrapolation(Weights atB, long b, Weights atS, long s, long target)
    {
        double factor = (double)(target - b) / (s - b);
        return atS.Select((name, ws) => atB.Tensors[name] + factor * (ws - atB.Tensors[name]));
    }

    /// <summary>ExPO: W = W_S + α (W_S − W0).</summary>
    public static Weights Expo(Weights w0, Weights atS, double alpha) =>
        atS.Select((name, ws) => ws + alpha * (ws - w0.Tensors[name]));

    /// <summary>
    /// RELEX-style temporal rank-1 fit: per tensor, the deltas W_t − W0 of the window's checkpoints stacked over time,
    /// their top singular pair c(t)·d, the coefficient c fitted by a line in the step and read at the target.
    /// </summary>
    public static Weights Relex(Weights w0, IReadOnlyList<(long Step, Weights Weights)> window, long target)
    {
        double[] steps = window.Select(c => (double)c.Step).ToArray();
        return w0.Select((name, baseTensor) =>
        {
            using var scope = NewDisposeScope();
            var deltas = stack(window.Select(c => (c.Weights.Tensors[name] - baseTensor).flatten()).ToArray());
            var (u, s, vh) = linalg.svd(deltas.to(ScalarType.Float64), fullMatrices: false);
            double[] coefficient = (u.select(1, 0) * s[0]).data<double>().ToArray();
            double predicted = LineAt(steps, coefficient, target);
            var delta = (vh[0] * predicted).to(baseTensor.dtype).view(baseTensor.shape);
            return (baseTensor + delta).MoveToOuterDisposeScope();
        });
    }

    /// <summary>The least-squares line through (x, y) read at <paramref name="at"/>.</summary>
    public static double LineAt(double[] x, double[] y, double at)
    {
        double mx = x.Average(), my = y.Average(), sxx = 0, sxy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxx += (x[i] - mx) * (x[i] - mx);
            sxy += (x[i] - mx) * (y[i] - my);
        }
        double slope = sxx > 0 ? sxy / sxx : 0;
        return my + slope * (at - mx);
    }
}
