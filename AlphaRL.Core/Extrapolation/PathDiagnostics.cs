namespace AlphaRl.Extrapolation;

/// <summary>
/// Figures that say whether a window's path is still straight enough to extrapolate, computed at each judgement.
/// A figure is NaN when the window cannot define it (e.g. no movement at all); NaN never refuses a jump.
/// </summary>
/// <param name="StepNormTrend">Mean ‖W_i − W_{i−1}‖ per training step over the window's second half divided by that
/// over its first half. Near 1: steady speed; below 1: slowing down (the reward saturating); below about 0.5 an
/// extrapolation overshoots.</param>
/// <param name="VelocityCosine">Cosine between the least-squares velocities of the window's first and second halves,
/// all covered matrices pooled. Near 1: a straight path; below about 0.9: the policy is turning as it moves.</param>
/// <param name="Rank1EnergyShare">Pooled s1² / ‖dW‖²_F at the window's last snapshot: how much of the update's energy
/// the top component holds (reported, not a verdict: rank-1 dominance concerns accuracy, not energy).</param>
/// <param name="HeldOutFitError">Pooled held-out relative error of the rank-1 line (see <see cref="FitQuality"/>).</param>
public sealed record PathDiagnostics(double StepNormTrend, double VelocityCosine, double Rank1EnergyShare, double HeldOutFitError)
{
    /// <summary>
    /// Computes the step-norm trend and the velocity cosine from the Gram matrix of a window's updates.
    /// </summary>
    /// <param name="gram">Row-major count × count matrix of inner products ⟨D_a, D_b⟩, where D_a = W_{t_a} − W_ref for
    /// a fixed reference (any: only differences and zero-sum combinations of the D's are used), pooled over matrices.
    /// An unbiased estimate (e.g. from random sketches) serves as well as the exact one.</param>
    /// <param name="steps">The snapshot steps t_a, increasing; at least 3.</param>
    /// <param name="rank1EnergyShare">Passed through to <see cref="Rank1EnergyShare"/>.</param>
    /// <param name="heldOutFitError">Passed through to <see cref="HeldOutFitError"/>.</param>
    /// <remarks>
    /// With n snapshots there are n − 1 steps; the first half is the first ⌊(n − 1)/2⌋ steps, the second half the last
    /// ⌊(n − 1)/2⌋ (the middle step is left out when n − 1 is odd). For the velocities, the first half is snapshots
    /// 0 … ⌈n/2⌉ − 1 and the second half snapshots ⌊n/2⌋ … n − 1 (they share the middle snapshot when n is odd).
    /// </remarks>
    /// <exception cref="ArgumentException">Fewer than 3 steps, a Gram matrix of the wrong size, or steps that do not increase.</exception>
    public static PathDiagnostics FromGram(ReadOnlySpan<double> gram, ReadOnlySpan<long> steps, double rank1EnergyShare = double.NaN,
        double heldOutFitError = double.NaN)
    {
        int n = steps.Length;
        if (n < 3)
            throw new ArgumentException($"Path diagnostics need at least 3 snapshots; got {n}.", nameof(steps));
        if (gram.Length != n * n)
            throw new ArgumentException($"The Gram matrix of {n} snapshots must hold {n * n} values; got {gram.Length}.", nameof(gram));
        for (int i = 1; i < n; i++)
            if (steps[i] <= steps[i - 1])
                throw new ArgumentException($"Snapshot steps must increase: step {steps[i]} follows step {steps[i - 1]}.", nameof(steps));

        int half = (n - 1) / 2;
        double first = 0, second = 0;
        for (int i = 1; i <= half; i++) first += StepNorm(gram, n, steps, i);
        for (int i = n - half; i < n; i++) second += StepNorm(gram, n, steps, i);
        double trend = first > 0 ? second / first : double.NaN;

        var a = Slope(steps, 0, (n + 1) / 2, n);
        var b = Slope(steps, n / 2, n, n);
        double ab = Quadratic(gram, a, b), aa = Quadratic(gram, a, a), bb = Quadratic(gram, b, b);
        double cosine = aa > 0 && bb > 0 ? Math.Clamp(ab / Math.Sqrt(aa * bb), -1, 1) : double.NaN;
        return new PathDiagnostics(trend, cosine, rank1EnergyShare, heldOutFitError);
    }

    /// <summary>
    /// Whether the path bends by the given thresholds, and which figure says so: the velocity cosine below
    /// <paramref name="minVelocityCosine"/> or the step-norm trend below <paramref name="minStepNormTrend"/>.
    /// </summary>
    /// <returns>A sentence naming the refusing figure, or null when the path looks straight enough (NaN figures never refuse).</returns>
    public string? Bends(double minVelocityCosine, double minStepNormTrend)
    {
        if (VelocityCosine < minVelocityCosine)
            return $"velocity cosine {VelocityCosine:F3} is below {minVelocityCosine} (the path turns)";
        if (StepNormTrend < minStepNormTrend)
            return $"step-norm trend {StepNormTrend:F3} is below {minStepNormTrend} (the path slows down)";
        return null;
    }

    /// <summary>‖D_i − D_{i−1}‖ / (t_i − t_{i−1}).</summary>
    private static double StepNorm(ReadOnlySpan<double> g, int n, ReadOnlySpan<long> steps, int i)
    {
        double squared = g[i * n + i] + g[(i - 1) * n + i - 1] - 2 * g[i * n + i - 1];
        return Math.Sqrt(Math.Max(squared, 0)) / (steps[i] - steps[i - 1]);
    }

    /// <summary>Coefficients c (length n, zero outside [from, to)) such that the least-squares slope over those snapshots is Σ c_a D_a.</summary>
    private static double[] Slope(ReadOnlySpan<long> steps, int from, int to, int n)
    {
        double mean = 0;
        for (int a = from; a < to; a++) mean += steps[a];
        mean /= to - from;
        double sxx = 0;
        for (int a = from; a < to; a++) sxx += (steps[a] - mean) * (steps[a] - mean);
        var c = new double[n];
        for (int a = from; a < to; a++) c[a] = (steps[a] - mean) / sxx;
        return c;
    }

    private static double Quadratic(ReadOnlySpan<double> g, double[] x, double[] y)
    {
        int n = x.Length;
        double sum = 0;
        for (int a = 0; a < n; a++)
        {
            if (x[a] == 0) continue;
            for (int b = 0; b < n; b++) sum += x[a] * g[a * n + b] * y[b];
        }
        return sum;
    }
}
