namespace AlphaRl.Jumps;

/// <summary>
/// Where a jump lands, for the hook, <c>predict</c> and <c>watch</c> alike. A window runs from step s (where it began)
/// to its last snapshot e; its length is L = e − s; a jump of length j (in window lengths) reaches T = e + round(j·L),
/// rounded to the nearest step with halves away from zero (j = 0.5 on a 5-step window lands on e + 3).
/// </summary>
public static class JumpGeometry
{
    /// <summary>T = e + round(j·L): the step a jump of <paramref name="length"/> window lengths reaches.</summary>
    /// <param name="last">e, the window's last snapshot step.</param>
    /// <param name="windowStart">s, the step at which the window began.</param>
    /// <param name="length">j, in window lengths, finite and 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">The target lies beyond any step.</exception>
    public static long Target(long last, long windowStart, double length)
    {
        double offset = Offset(length, last - windowStart);
        if (offset > long.MaxValue / 2 - last)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"A jump of {length} window lengths (L = {last - windowStart}) from step {last} lies beyond any step.");
        return last + (long)offset;
    }

    /// <summary>round(j·L), halves away from zero: the steps a jump of <paramref name="length"/> adds to a window of <paramref name="windowLength"/> steps.</summary>
    public static double Offset(double length, long windowLength) => Math.Round(length * windowLength, MidpointRounding.AwayFromZero);

    /// <summary>The jump length that reaches <paramref name="target"/> from a window (s, e): (T − e) / (e − s).</summary>
    public static double LengthTo(long target, long last, long windowStart) => (double)(target - last) / (last - windowStart);

    /// <summary>The paper's target, s + multiple × L, as a jump length: multiple − 1.</summary>
    public static double LengthOfMultiple(double targetMultiple) => targetMultiple - 1;
}
