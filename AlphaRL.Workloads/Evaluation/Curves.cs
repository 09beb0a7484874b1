namespace AlphaRl.Workloads.Evaluation;

/// <summary>
/// A quality curve of one run: the quality measured after each number of RL steps trained, in order. A jump adds a
/// point at the step it happened (the weights after the jump), so steps never decrease but may repeat.
/// </summary>
/// <param name="Steps">RL steps trained at each point, non-decreasing.</param>
/// <param name="Values">Quality at each point.</param>
public sealed record Curve(IReadOnlyList<int> Steps, IReadOnlyList<double> Values)
{
    /// <summary>Tolerance of every comparison with a target: a value this close below it counts as reaching it.</summary>
    public const double Epsilon = 1e-12;

    /// <summary>A curve from (step, value) pairs, checked: same lengths, at least one point, steps non-decreasing, finite values.</summary>
    public static Curve Of(IEnumerable<(int Step, double Value)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var list = points.ToList();
        var curve = new Curve(list.Select(p => p.Step).ToArray(), list.Select(p => p.Value).ToArray());
        curve.Check();
        return curve;
    }

    /// <summary>The quality of the last point.</summary>
    public double Final => Values[^1];

    /// <summary>The quality of the first point (the weights before training).</summary>
    public double Initial => Values[0];

    /// <summary>The highest quality measured.</summary>
    public double Peak => Values.Max();

    /// <summary>
    /// The fewest RL steps trained after which the curve measured at least <paramref name="target"/> (at a jump, the
    /// jump's step), or null when it never did. Step 0 counts as 1: no method reaches a target in zero steps.
    /// </summary>
    public int? FirstReach(double target)
    {
        for (int i = 0; i < Values.Count; i++)
            if (Values[i] >= target - Epsilon) return Math.Max(Steps[i], 1);
        return null;
    }

    /// <summary>
    /// The quality of the weights after <paramref name="steps"/> RL steps trained: the last point at or before it (after a
    /// jump at that step, the jumped weights). Throws when the curve starts after <paramref name="steps"/>.
    /// </summary>
    public double At(int steps)
    {
        int index = -1;
        for (int i = 0; i < Steps.Count && Steps[i] <= steps; i++) index = i;
        if (index < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"The curve starts at step {Steps[0]}.");
        return Values[index];
    }

    /// <summary>The last step measured.</summary>
    public int LastStep => Steps[^1];

    /// <summary>
    /// Whether the run collapsed: it fell from its best by at least <paramref name="minimumDrop"/> to below half of its
    /// best gain (below where it started, if it never gained), and stayed there (the last fifth of the run never came
    /// back above that level).
    /// </summary>
    public bool Collapsed(double minimumDrop = 0.02)
    {
        double gain = Math.Max(0, Peak - Initial);
        double level = Initial + gain / 2;
        int tail = Steps.Count - Math.Max(1, Steps.Count / 5);
        bool tailBelow = Enumerable.Range(tail, Steps.Count - tail).All(i => Values[i] < level);
        return tailBelow && Peak - Final >= minimumDrop;
    }

    /// <summary>
    /// Whether the curve is still rising at its end: the mean of its last fifth exceeds the mean of the fifth before by
    /// more than <paramref name="minimumRise"/>.
    /// </summary>
    public bool StillImproving(double minimumRise = 0.005)
    {
        int fifth = Math.Max(1, Steps.Count / 5);
        if (Steps.Count < 2 * fifth) return false;
        double last = Values.Skip(Steps.Count - fifth).Average();
        double before = Values.Skip(Steps.Count - 2 * fifth).Take(fifth).Average();
        return last - before > minimumRise;
    }

    private void Check()
    {
        if (Steps.Count != Values.Count) throw new ArgumentException($"A curve needs as many steps ({Steps.Count}) as values ({Values.Count}).");
        if (Steps.Count == 0) throw new ArgumentException("A curve needs at least one point.");
        for (int i = 0; i < Steps.Count; i++)
        {
            if (i > 0 && Steps[i] < Steps[i - 1]) throw new ArgumentException($"Curve steps must not decrease: {Steps[i - 1]} then {Steps[i]} at point {i}.");
            if (!double.IsFinite(Values[i])) throw new ArgumentException($"Curve value at point {i} (step {Steps[i]}) is {Values[i]}, not finite.");
        }
    }
}
