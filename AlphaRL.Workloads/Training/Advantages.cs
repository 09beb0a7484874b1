namespace AlphaRl.Workloads.Training;

/// <summary>The advantage estimates of GRPO and PPO, on plain arrays so they can be checked by hand.</summary>
public static class Advantages
{
    /// <summary>
    /// GRPO's group-normalised advantages: each reward minus its group's mean, divided by the group's standard
    /// deviation (population form) plus <paramref name="epsilon"/>. Groups are consecutive runs of
    /// <paramref name="groupSize"/> rewards. A group whose rewards are all equal gets zero advantages.
    /// </summary>
    public static double[] GroupNormalised(ReadOnlySpan<double> rewards, int groupSize, double epsilon = 1e-6)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(groupSize, 1);
        if (rewards.Length % groupSize != 0)
            throw new ArgumentException($"{rewards.Length} rewards do not split into groups of {groupSize}.", nameof(rewards));
        var advantages = new double[rewards.Length];
        for (int start = 0; start < rewards.Length; start += groupSize)
        {
            var group = rewards.Slice(start, groupSize);
            double mean = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
            foreach (double r in group)
            {
                mean += r;
                min = Math.Min(min, r);
                max = Math.Max(max, r);
            }
            if (min == max) continue; // all equal: zeros, not rounding noise of the mean divided by itself (or 0/0)
            mean /= groupSize;
            double variance = 0;
            foreach (double r in group) variance += (r - mean) * (r - mean);
            double sd = Math.Sqrt(variance / groupSize);
            for (int i = 0; i < groupSize; i++) advantages[start + i] = (group[i] - mean) / (sd + epsilon);
        }
        return advantages;
    }

    /// <summary>
    /// Generalised advantage estimation over one episode of <c>T</c> steps, the episode ending after the last step:
    /// δ_t = r_t + γ V_{t+1} − V_t (with V_T = 0), A_t = Σ_l (γλ)^l δ_{t+l}. Returns the advantages and the value
    /// targets A_t + V_t.
    /// </summary>
    public static (double[] Advantages, double[] Returns) Gae(ReadOnlySpan<double> rewards, ReadOnlySpan<double> values, double gamma, double lambda)
    {
        if (rewards.Length != values.Length)
            throw new ArgumentException($"{rewards.Length} rewards but {values.Length} values.", nameof(values));
        if (gamma is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must be in [0, 1].");
        if (lambda is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be in [0, 1].");
        var advantages = new double[rewards.Length];
        var returns = new double[rewards.Length];
        double next = 0, running = 0;
        for (int t = rewards.Length - 1; t >= 0; t--)
        {
            double delta = rewards[t] + gamma * next - values[t];
            running = delta + gamma * lambda * running;
            advantages[t] = running;
            returns[t] = running + values[t];
            next = values[t];
        }
        return (advantages, returns);
    }

    /// <summary>Shifts and scales values to mean 0 and standard deviation 1 (left as centred when they are all equal).</summary>
    public static double[] Whiten(ReadOnlySpan<double> values, double epsilon = 1e-8)
    {
        if (values.IsEmpty) return [];
        double mean = 0;
        foreach (double v in values) mean += v;
        mean /= values.Length;
        double variance = 0;
        foreach (double v in values) variance += (v - mean) * (v - mean);
        double sd = Math.Sqrt(variance / values.Length);
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = (values[i] - mean) / (sd + epsilon);
        return result;
    }
}
