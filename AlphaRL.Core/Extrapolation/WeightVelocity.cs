namespace AlphaRl.Extrapolation;

/// <summary>
/// The scalar half of a running per-weight velocity: the count n of observations, their mean step t̄ and
/// Σ (t − t̄)², updated by Welford's method. Steps are measured from the window's start, so that large step numbers
/// do not cancel digits. The per-weight half is <see cref="WeightVelocity.Observe(Span{float}, Span{float}, ReadOnlySpan{float}, VelocityObservation)"/>;
/// the hook (on tensors) and the command-line tool (on spans) both step this clock, so their slopes agree.
/// </summary>
public sealed class VelocityClock
{
    /// <summary>Observations since the last <see cref="Reset"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Mean of the observed steps t̄ (from the window's start).</summary>
    public double MeanStep { get; private set; }

    /// <summary>Σ (t − t̄)² over the observed steps: the slope's denominator.</summary>
    public double StepComoment { get; private set; }

    /// <summary>Forgets every observation.</summary>
    public void Reset() => (Count, MeanStep, StepComoment) = (0, 0, 0);

    /// <summary>Restores a saved state (<see cref="Count"/>, <see cref="MeanStep"/>, <see cref="StepComoment"/>).</summary>
    /// <exception cref="ArgumentException">The values cannot come from a clock.</exception>
    public void Restore(int count, double meanStep, double stepComoment)
    {
        if (count < 0 || !double.IsFinite(meanStep) || !double.IsFinite(stepComoment) || stepComoment < 0 || count < 2 && stepComoment != 0)
            throw new ArgumentException($"A velocity clock cannot hold count {count}, mean step {meanStep} and Σ(t − t̄)² {stepComoment}.");
        (Count, MeanStep, StepComoment) = (count, meanStep, stepComoment);
    }

    /// <summary>Adds an observation at <paramref name="step"/> steps from the window's start; returns what each weight's
    /// running sums need for it (<see cref="WeightVelocity.Observe(Span{float}, Span{float}, ReadOnlySpan{float}, VelocityObservation)"/>).</summary>
    public VelocityObservation Add(double step)
    {
        if (!double.IsFinite(step)) throw new ArgumentOutOfRangeException(nameof(step), step, "A step must be finite.");
        int n = ++Count;
        double dt = step - MeanStep;
        MeanStep += dt / n;
        StepComoment += dt * (step - MeanStep);
        return new VelocityObservation(n, dt);
    }

    /// <summary>Whether a slope can be taken: two observations at distinct steps.</summary>
    public bool HasSlope => Count >= 2 && StepComoment > 0;

    /// <summary>The factor (T − e) / Σ (t − t̄)² that turns each weight's co-moment into its jump of
    /// <paramref name="steps"/> = T − e steps.</summary>
    /// <exception cref="InvalidOperationException">Fewer than two distinct steps were observed.</exception>
    public double Factor(long steps) => HasSlope
        ? steps / StepComoment
        : throw new InvalidOperationException($"A velocity needs observations at two or more distinct steps; it has {Count} observation(s).");
}

/// <summary>What each weight's running sums need for one observation: the count after it and t − t̄ before it.</summary>
public readonly record struct VelocityObservation(int Count, double StepOffset);

/// <summary>
/// Per-weight least-squares velocity b of a tensor (or a slice of one) against the training step, kept as running sums
/// so that no window of weights is stored: the running mean of W_t and the co-moment Σ (t − t̄)(W_t − W̄), in float32,
/// updated by Welford's method (the same slope as (n Σ tW − Σt Σ W) / (n Σt² − (Σt)²), without the cancellation of those
/// raw sums), with the step scalars in a <see cref="VelocityClock"/>. Memory: two float32 values per weight. The jump to
/// step T from the last step e is W_e + (T − e)/Σ(t − t̄)² · co-moment.
/// <para>This is the one implementation of the velocity: the online hook applies exactly these float32 operations to
/// its tensors (the tests check that the two agree), <c>record</c> keeps these sums in a snapshot store, and
/// <c>predict</c> forms them over a series.</para>
/// </summary>
/// <example>
/// <code>
/// var velocity = new WeightVelocity();
/// velocity.Reset("model.layers.0.mlp.up_proj.weight", n, origin: 0);
/// foreach (var (step, weights) in window) velocity.Add(step, weights, "step-" + step);
/// velocity.Jump(lastWeights, targetStep - lastStep, predicted); // W_T ≈ W_e + (T − e) b
/// </code>
/// </example>
public sealed class WeightVelocity
{
    private float[] _mean = [];
    private float[] _comoment = [];
    private int _length;
    private long _origin;
    private readonly VelocityClock _clock = new();
    private string _tensor = "";

    /// <summary>Name of the tensor being accumulated (used in messages).</summary>
    public string Tensor => _tensor;

    /// <summary>Number of values per observation.</summary>
    public int Length => _length;

    /// <summary>Observations added since the last <see cref="Reset"/>.</summary>
    public int Count => _clock.Count;

    /// <summary>Index, within the whole tensor, of the first value accumulated (non-zero when a tensor is processed in slices).</summary>
    public long FirstElement { get; private set; }

    /// <summary>The running co-moment Σ (t − t̄)(W_t − W̄) of each value.</summary>
    public ReadOnlySpan<float> Comoment => _comoment.AsSpan(0, _length);

    /// <summary>Starts a new accumulation for <paramref name="length"/> values of <paramref name="tensor"/>,
    /// reusing the buffers when they are large enough.</summary>
    /// <param name="tensor">Name of the tensor, used in messages.</param>
    /// <param name="length">Values per observation.</param>
    /// <param name="firstElement">Index of the first value within the tensor, when only a slice is accumulated (used in messages).</param>
    /// <param name="origin">The window's start step: steps are measured from it (the hook measures from where its window began).</param>
    public void Reset(string tensor, int length, long firstElement = 0, long origin = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        FirstElement = firstElement;
        _tensor = tensor ?? throw new ArgumentNullException(nameof(tensor));
        if (_mean.Length < length)
        {
            _mean = new float[length];
            _comoment = new float[length];
        }
        _length = length;
        _origin = origin;
        _clock.Reset();
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
        LinearWeightJump.EnsureFinite(weights, _tensor, $"{source} (step {step})", FirstElement);
        Observe(_mean.AsSpan(0, _length), _comoment.AsSpan(0, _length), weights, _clock.Add(step - _origin));
    }

    /// <summary>Writes the least-squares slope b (per step) of every value into <paramref name="destination"/>.</summary>
    /// <exception cref="AlphaRLException">Fewer than two distinct steps were added, or the slope is not finite.</exception>
    public void Slope(Span<float> destination)
    {
        if (destination.Length != _length)
            throw new ArgumentException($"Destination holds {destination.Length} values; '{_tensor}' has {_length}.", nameof(destination));
        EnsureSlope();
        double sxx = _clock.StepComoment;
        for (int i = 0; i < destination.Length; i++)
        {
            double b = _comoment[i] / sxx;
            if (!float.IsFinite((float)b))
                throw new AlphaRLException($"The velocity of '{_tensor}' is not finite at element {FirstElement + i}.");
            destination[i] = (float)b;
        }
    }

    /// <summary>The jump of <paramref name="steps"/> = T − e steps from <paramref name="last"/> (W_e) into <paramref name="destination"/>.</summary>
    /// <exception cref="AlphaRLException">Fewer than two distinct steps were added.</exception>
    public void Jump(ReadOnlySpan<float> last, long steps, Span<float> destination)
    {
        EnsureSlope();
        Jump(last, Comoment, _clock.Factor(steps), destination);
    }

    private void EnsureSlope()
    {
        if (!_clock.HasSlope)
            throw new AlphaRLException($"The velocity of '{_tensor}' needs observations at two or more distinct steps; it has {_clock.Count} observation(s).");
    }

    /// <summary>
    /// Updates one tensor's running sums with its weights <paramref name="weights"/> at an observation of the clock:
    /// the first observation sets mean = W and co-moment = 0; later ones do mean += (W − mean)/n, then
    /// co-moment += (W − mean)·(t − t̄), each operation rounded to float32 in that order, as the hook's tensor code does.
    /// </summary>
    public static void Observe(Span<float> mean, Span<float> comoment, ReadOnlySpan<float> weights, VelocityObservation observation)
    {
        if (mean.Length != weights.Length || comoment.Length != weights.Length)
            throw new ArgumentException($"Lengths disagree: mean {mean.Length}, co-moment {comoment.Length}, weights {weights.Length}.");
        if (observation.Count == 1)
        {
            weights.CopyTo(mean);
            comoment.Clear();
            return;
        }
        float n = observation.Count, dt = (float)observation.StepOffset;
        for (int i = 0; i < weights.Length; i++)
        {
            float m = mean[i] + (weights[i] - mean[i]) / n;
            mean[i] = m;
            comoment[i] += (weights[i] - m) * dt;
        }
    }

    /// <summary>destination = last + co-moment · factor, in float32 (factor = <see cref="VelocityClock.Factor"/>), as the hook does.</summary>
    public static void Jump(ReadOnlySpan<float> last, ReadOnlySpan<float> comoment, double factor, Span<float> destination)
    {
        if (last.Length != comoment.Length || destination.Length != last.Length)
            throw new ArgumentException($"Jump lengths disagree: last {last.Length}, co-moment {comoment.Length}, destination {destination.Length}.");
        float f = (float)factor;
        for (int i = 0; i < last.Length; i++) destination[i] = last[i] + comoment[i] * f;
    }
}

/// <summary>
/// The whole-update jump (ExPO's form): W_pred = W_e + (T − e)/(e − base) · (W_e − W0).
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

    /// <summary>Scale of the whole-update jump: (T − e)/(e − base), so that the step from the base to e continues to T.</summary>
    /// <exception cref="ArgumentException">The last step is not after the base step.</exception>
    public static double DirectionScale(long baseStep, long lastStep, long targetStep) =>
        lastStep > baseStep
            ? (double)(targetStep - lastStep) / (lastStep - baseStep)
            : throw new ArgumentException($"The last step {lastStep} must come after the base step {baseStep}.");

    /// <summary>Throws when a value is NaN or infinite, naming the tensor, where it comes from and the element.</summary>
    /// <param name="values">The values, a whole tensor or a slice of one.</param>
    /// <param name="tensor">The tensor's name.</param>
    /// <param name="source">Where the values come from (a file, a step).</param>
    /// <param name="firstElement">Index in the tensor of <paramref name="values"/>[0] (for a slice).</param>
    /// <exception cref="AlphaRLException">A value is not finite.</exception>
    public static void EnsureFinite(ReadOnlySpan<float> values, string tensor, string source, long firstElement = 0)
    {
        // MaxMagnitude is NaN when any value is NaN and infinite when any is infinite: one vectorized pass.
        if (values.IsEmpty || float.IsFinite(System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(values))) return;
        int i = 0;
        while (float.IsFinite(values[i])) i++;
        throw new AlphaRLException($"Tensor '{tensor}' in {source} holds {values[i]} at element {firstElement + i}; a jump needs finite weights.");
    }
}
