namespace AlphaRl.Extrapolation;

/// <summary>
/// Per-weight least-squares slope of a tensor (or a slice of one) against the training step, kept as running sums
/// (Σ W_t, Σ τ W_t in double, with τ = t − the first step seen, plus count, Σ τ and Σ τ²) so that no window of
/// weights is stored: memory is two doubles per weight, whatever the number of checkpoints.
/// </summary>
/// <example>
/// <code>
/// var velocity = new WeightVelocity();
/// velocity.Reset("model.layers.0.mlp.up_proj.weight", n);
/// foreach (var (step, weights) in window) velocity.Add(step, weights, "step-" + step);
/// velocity.Slope(b); // W_T ≈ W_e + (T − e) b
/// </code>
/// </example>
public sealed class WeightVelocity
{
    private double[] _sum = [];
    private double[] _weightedSum = [];
    private int _length;
    private long _origin;
    private int _count;
    private double _sumT, _sumT2;
    private readonly HashSet<long> _steps = new();
    private string _tensor = "";

    /// <summary>Name of the tensor being accumulated (used in messages).</summary>
    public string Tensor => _tensor;

    /// <summary>Number of values per observation.</summary>
    public int Length => _length;

    /// <summary>Observations added since the last <see cref="Reset"/>.</summary>
    public int Count => _count;

    /// <summary>Index, within the whole tensor, of the first value accumulated (non-zero when a tensor is processed in slices).</summary>
    public long FirstElement { get; private set; }

    /// <summary>Starts a new accumulation for <paramref name="length"/> values of <paramref name="tensor"/>,
    /// reusing the buffers when they are large enough.</summary>
    /// <param name="tensor">Name of the tensor, used in messages.</param>
    /// <param name="length">Values per observation.</param>
    /// <param name="firstElement">Index of the first value within the tensor, when only a slice is accumulated (used in messages).</param>
    public void Reset(string tensor, int length, long firstElement = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        FirstElement = firstElement;
        _tensor = tensor ?? throw new ArgumentNullException(nameof(tensor));
        if (_sum.Length < length)
        {
            _sum = new double[length];
            _weightedSum = new double[length];
        }
        else
        {
            Array.Clear(_sum, 0, length);
            Array.Clear(_weightedSum, 0, length);
        }
        _length = length;
        _count = 0;
        _sumT = _sumT2 = 0;
        _steps.Clear();
    }

    /// <summary>Adds the weights observed at <paramref name="step"/>.</summary>
    /// <param name="step">Training step of the observation.</param>
    /// <param name="weights">Exactly <see cref="Length"/> values.</param>
    /// <param name="source">Where the values come from (a file), named in messages.</param>
    /// <exception cref="AlphaRLException">A value is NaN or infinite.</exception>
    public void Add(long step, ReadOnlySpan<float> weights, string source)
    {
        if (weights.Length != _length)
            throw new ArgumentException($"'{_tensor}' from {source} has {weights.Length} values; the accumulation holds {_length}.", nameof(weights));
        // Steps are measured from the first one so that large step numbers do not cancel the slope's digits.
        if (_count == 0) _origin = step;
        double tau = step - _origin;
        var sum = _sum.AsSpan(0, _length);
        var weighted = _weightedSum.AsSpan(0, _length);
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i];
            if (!float.IsFinite(w))
                throw new AlphaRLException($"Tensor '{_tensor}' in {source} (step {step}) holds {w} at element {FirstElement + i}; the velocity needs finite weights.");
            sum[i] += w;
            weighted[i] += tau * w;
        }
        _count++;
        _sumT += tau;
        _sumT2 += tau * tau;
        _steps.Add(step);
    }

    /// <summary>Writes the least-squares slope b (per step) of every value into <paramref name="destination"/>.</summary>
    /// <exception cref="AlphaRLException">Fewer than two distinct steps were added, or the slope is not finite.</exception>
    public void Slope(Span<float> destination)
    {
        var (meanT, sxx) = Moments(destination.Length);
        for (int i = 0; i < destination.Length; i++)
        {
            double b = SlopeAt(i, meanT, sxx);
            if (!float.IsFinite((float)b))
                throw new AlphaRLException($"The velocity of '{_tensor}' is not finite at element {FirstElement + i}.");
            destination[i] = (float)b;
        }
    }

    /// <summary>Writes the least-squares slope b (per step) of every value into <paramref name="destination"/>, unrounded
    /// (for small tensors, such as LoRA factors, whose jump is then formed and rounded once).</summary>
    /// <exception cref="AlphaRLException">Fewer than two distinct steps were added, or the slope is not finite.</exception>
    public void Slope(Span<double> destination)
    {
        var (meanT, sxx) = Moments(destination.Length);
        for (int i = 0; i < destination.Length; i++) destination[i] = SlopeAt(i, meanT, sxx);
    }

    private (double MeanT, double Sxx) Moments(int destinationLength)
    {
        if (destinationLength != _length)
            throw new ArgumentException($"Destination holds {destinationLength} values; '{_tensor}' has {_length}.", "destination");
        if (_steps.Count < 2)
            throw new AlphaRLException($"The velocity of '{_tensor}' needs observations at two or more distinct steps; it has {_steps.Count} ({_count} observation(s)).");
        double meanT = _sumT / _count;
        return (meanT, _sumT2 - _sumT * meanT);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private double SlopeAt(int i, double meanT, double sxx)
    {
        // Σ (τ − τ̄) W = Σ τ W − τ̄ Σ W.
        double b = (_weightedSum[i] - meanT * _sum[i]) / sxx;
        if (!double.IsFinite(b))
            throw new AlphaRLException($"The velocity of '{_tensor}' is not finite at element {FirstElement + i}.");
        return b;
    }
}

/// <summary>
/// Weight-space jumps that move every weight along one direction: W_pred = W_e + scale · Δ, where Δ is the per-weight
/// velocity b (scale T − e) or the whole update W_e − W0 (scale (T − e)/(e − base), ExPO's form).
/// </summary>
public static class LinearWeightJump
{
    /// <summary>destination = last + scale · delta, element by element (formed in double, stored as float).</summary>
    public static void Apply(ReadOnlySpan<float> last, ReadOnlySpan<float> delta, double scale, Span<float> destination)
    {
        if (last.Length != delta.Length || destination.Length != last.Length)
            throw new ArgumentException($"Jump lengths disagree: last {last.Length}, delta {delta.Length}, destination {destination.Length}.");
        for (int i = 0; i < last.Length; i++) destination[i] = (float)(last[i] + scale * delta[i]);
    }

    /// <summary>Scale of the velocity jump to <paramref name="targetStep"/> from the last step e: T − e.</summary>
    public static double VelocityScale(long lastStep, long targetStep) => targetStep - lastStep;

    /// <summary>Scale of the whole-update jump: (T − e)/(e − base), so that the step from the base to e continues to T.</summary>
    /// <exception cref="ArgumentException">The last step is not after the base step.</exception>
    public static double DirectionScale(long baseStep, long lastStep, long targetStep) =>
        lastStep > baseStep
            ? (double)(targetStep - lastStep) / (lastStep - baseStep)
            : throw new ArgumentException($"The last step {lastStep} must come after the base step {baseStep}.");

    /// <summary>Throws when a value is NaN or infinite, naming the tensor and where it comes from.</summary>
    /// <exception cref="AlphaRLException">A value is not finite.</exception>
    public static void EnsureFinite(ReadOnlySpan<float> values, string tensor, string source)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i]))
                throw new AlphaRLException($"Tensor '{tensor}' in {source} holds {values[i]} at element {i}; a jump needs finite weights.");
    }
}
