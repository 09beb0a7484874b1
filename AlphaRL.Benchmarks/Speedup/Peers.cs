using AlphaRl.Extrapolation;
using AlphaRl.Tracking;
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

    /// <summary>
    /// AlphaRL's math applied offline to the full run's window checkpoints, exactly as the offline tool does it: the
    /// rank-1 triplet of each covered update per checkpoint (AlphaRL.Core's span routine), a line in the step, and the
    /// increment jump W_e + (x̂ − x_e) v_eᵀ; other tensors keep W_e. No fit threshold and no guard: it shows how good
    /// the prediction itself is at the window's end. Returns the weights and the pooled held-out fit quality.
    /// </summary>
    public static (Weights Weights, FitQuality Fit) AlphaRlOffline(Weights w0, IReadOnlyList<(long Step, Weights Weights)> window, ISet<string> covered, long target)
    {
        var tracker = new SubspaceTracker();
        foreach (var (step, weights) in window)
            foreach (string name in covered)
            {
                using var delta = weights.Tensors[name] - w0.Tensors[name];
                tracker.Observe(name, step, delta.data<float>().ToArray(), (int)delta.shape[0], (int)delta.shape[1]);
            }
        var line = new StepLineExtrapolator();
        var fits = covered.ToDictionary(name => name, name => line.Fit(name, tracker.Snapshots(name)));
        var jumped = window[^1].Weights.Select((name, we) =>
        {
            if (!fits.TryGetValue(name, out var fit)) return we.clone();
            float[] data = we.data<float>().ToArray();
            float[] coefficients = Rank1Jump.Coefficients(fit, line.Predict(fit, target), JumpForm.Increment);
            Rank1Jump.Apply(data, (int)we.shape[0], (int)we.shape[1], coefficients, fit.LastV);
            return tensor(data).view(we.shape);
        });
        return (jumped, FitQuality.Combine(fits.Values.Select(f => f.HoldOut)));
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
