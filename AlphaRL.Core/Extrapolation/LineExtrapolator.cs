using System.Numerics.Tensors;
using AlphaRl.Tracking;

namespace AlphaRl.Extrapolation;

/// <summary>
/// Least-squares straight line of x_t against a scalar covariate of each snapshot, judged out of sample: the line
/// is first fitted on the earlier snapshots and asked to predict the later <see cref="HoldOutFraction"/> of them,
/// then refitted on all of them.
/// </summary>
public abstract class LineExtrapolator : IExtrapolator
{
    /// <summary>Fewest snapshots a fit accepts: two to fit the held-in line, one to judge it.</summary>
    public const int MinimumSnapshots = 3;

    /// <summary>Share of the window's latest snapshots held out to judge the fit (at least one). Default 0.25.</summary>
    public double HoldOutFraction { get; init; } = 0.25;

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>The covariate of a snapshot (its step, or the metric measured there).</summary>
    protected abstract double Covariate(Rank1Snapshot snapshot);

    /// <summary>The covariate value at which to predict for a target step.</summary>
    protected abstract double TargetCovariate(long targetStep);

    /// <inheritdoc />
    public TrajectoryFit Fit(string matrix, IReadOnlyList<Rank1Snapshot> window)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (window.Count < MinimumSnapshots)
            throw new AlphaRLException($"Fitting '{matrix}' needs at least {MinimumSnapshots} snapshots (two to fit, one to judge the fit out of sample); the window has {window.Count}.");
        if (HoldOutFraction is <= 0 or >= 1)
            throw new AlphaRLException($"{nameof(HoldOutFraction)} must be between 0 and 1 (exclusive); it is {HoldOutFraction}.");
        int m = window[0].U.Length, n = window[0].V.Length;
        var xs = new float[window.Count][];
        var cs = new double[window.Count];
        for (int i = 0; i < window.Count; i++)
        {
            var s = window[i];
            if (s.U.Length != m || s.V.Length != n)
                throw new AlphaRLException($"Snapshots of '{matrix}' change shape: {m}×{n} at step {window[0].Step}, {s.U.Length}×{s.V.Length} at step {s.Step}.");
            xs[i] = s.X();
            cs[i] = Covariate(s);
            if (!double.IsFinite(cs[i]) || !float.IsFinite(TensorPrimitives.Sum<float>(xs[i])))
                throw new AlphaRLException($"The snapshot of '{matrix}' at step {s.Step} holds NaN or infinity.");
        }

        int heldOut = Math.Clamp((int)Math.Round(window.Count * HoldOutFraction), 1, window.Count - 2);
        int heldIn = window.Count - heldOut;
        var (a0, b0) = FitLine(matrix, xs.AsSpan(0, heldIn), cs.AsSpan(0, heldIn));
        var quality = Judge(a0, b0, window[heldIn - 1].V, xs.AsSpan(heldIn), cs.AsSpan(heldIn), window, heldIn);

        var (a, b) = FitLine(matrix, xs, cs);
        double r2 = InSampleR2(a, b, xs, cs);
        var last = window[^1];
        return new TrajectoryFit(matrix, a, b, xs[^1], (float[])last.V.Clone(), last.Step, window.Count, quality, r2);
    }

    /// <inheritdoc />
    public float[] Predict(TrajectoryFit fit, long targetStep)
    {
        ArgumentNullException.ThrowIfNull(fit);
        if (targetStep < fit.LastStep)
            throw new AlphaRLException($"Target step {targetStep} lies before the end of the window (step {fit.LastStep}) of '{fit.Matrix}'; AlphaRL only predicts ahead.");
        var x = fit.PredictAt(TargetCovariate(targetStep));
        if (!float.IsFinite(TensorPrimitives.Sum<float>(x)))
            throw new AlphaRLException($"The prediction for '{fit.Matrix}' at step {targetStep} is not finite.");
        return x;
    }

    private static (float[] Intercept, float[] Slope) FitLine(string matrix, ReadOnlySpan<float[]> xs, ReadOnlySpan<double> cs)
    {
        double mean = 0;
        foreach (double c in cs) mean += c;
        mean /= cs.Length;
        double sxx = 0;
        foreach (double c in cs) sxx += (c - mean) * (c - mean);
        if (!(sxx > 0))
            throw new AlphaRLException($"Cannot fit a line for '{matrix}': all {cs.Length} snapshots have the same covariate value {mean}.");

        int m = xs[0].Length;
        var slope = new double[m];
        var xMean = new double[m];
        for (int k = 0; k < xs.Length; k++)
        {
            double w = cs[k] - mean;
            var x = xs[k];
            for (int i = 0; i < m; i++)
            {
                slope[i] += w * x[i];
                xMean[i] += x[i];
            }
        }
        var a = new float[m];
        var b = new float[m];
        for (int i = 0; i < m; i++)
        {
            double bi = slope[i] / sxx;
            b[i] = (float)bi;
            a[i] = (float)(xMean[i] / xs.Length - bi * mean);
        }
        return (a, b);
    }

    private static FitQuality Judge(float[] a, float[] b, float[] vFit, ReadOnlySpan<float[]> xs, ReadOnlySpan<double> cs,
        IReadOnlyList<Rank1Snapshot> window, int firstHeldOut)
    {
        double inner = 0, predicted = 0, measured = 0, residual = 0;
        var xHat = new float[a.Length];
        for (int k = 0; k < xs.Length; k++)
        {
            TensorPrimitives.MultiplyAdd(b, (float)cs[k], a, xHat);
            var v = window[firstHeldOut + k].V;
            double xDotX = Dot(xHat, xs[k]);
            // With unit V vectors: ⟨x̂ v_fitᵀ, x vᵀ⟩_F = (x̂·x)(v_fit·v) and
            // ‖x̂ v_fitᵀ − x vᵀ‖²_F = ‖x̂ − x‖² + (x̂·x)‖v_fit − v‖², both terms formed from direct differences.
            inner += xDotX * Dot(vFit, v);
            predicted += Dot(xHat, xHat);
            measured += Dot(xs[k], xs[k]);
            residual += DistanceSquared(xHat, xs[k]) + xDotX * DistanceSquared(vFit, v);
        }
        return new FitQuality(inner, predicted, measured, Math.Max(0, residual), xs.Length);
    }

    private static double Dot(float[] x, float[] y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += (double)x[i] * y[i];
        return sum;
    }

    private static double DistanceSquared(float[] x, float[] y)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = (double)x[i] - y[i];
            sum += d * d;
        }
        return sum;
    }

    private static double InSampleR2(float[] a, float[] b, float[][] xs, double[] cs)
    {
        int m = a.Length;
        var mean = new double[m];
        foreach (var x in xs)
            for (int i = 0; i < m; i++) mean[i] += x[i] / xs.Length;
        double residual = 0, total = 0;
        for (int k = 0; k < xs.Length; k++)
        {
            for (int i = 0; i < m; i++)
            {
                double r = xs[k][i] - (a[i] + (double)b[i] * cs[k]);
                double d = xs[k][i] - mean[i];
                residual += r * r;
                total += d * d;
            }
        }
        return total > 0 ? 1 - residual / total : 1;
    }
}

/// <summary>
/// The default extrapolator: a least-squares line of x_t against the training step, x̂(T) = a + b·T.
/// </summary>
public sealed class StepLineExtrapolator : LineExtrapolator
{
    /// <inheritdoc />
    public override string Name => "step-line";

    /// <inheritdoc />
    protected override double Covariate(Rank1Snapshot snapshot) => snapshot.Step;

    /// <inheritdoc />
    protected override double TargetCovariate(long targetStep) => targetStep;
}

/// <summary>
/// The released research scripts' method: one-component PLS of x_t against a measured metric (e.g. accuracy),
/// predicting x at a target metric value instead of a target step. With a single scalar predictor the PLS
/// component is the centred metric itself, so the fit is the least-squares line of x against the metric.
/// </summary>
/// <param name="metricAtStep">The metric measured at each snapshot step.</param>
/// <param name="targetMetric">The metric value to predict the weights for.</param>
public sealed class MetricPlsExtrapolator(IReadOnlyDictionary<long, double> metricAtStep, double targetMetric) : LineExtrapolator
{
    /// <inheritdoc />
    public override string Name => "metric-pls";

    /// <inheritdoc />
    protected override double Covariate(Rank1Snapshot snapshot) =>
        metricAtStep.TryGetValue(snapshot.Step, out double metric)
            ? metric
            : throw new AlphaRLException($"No metric was given for step {snapshot.Step}; the PLS fit needs one at every snapshot step.");

    /// <inheritdoc />
    protected override double TargetCovariate(long targetStep) => targetMetric;
}
