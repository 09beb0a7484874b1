using TorchSharp.Modules;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>What every jump method keeps of its window: where it began, its last snapshot step and how many it saw.</summary>
internal abstract class JumpMethodBase : IJumpMethod
{
    protected JumpMethodBase(long windowStart) => WindowStart = windowStart;

    public abstract string Name { get; }

    public abstract long MemoryBytes { get; }

    public abstract IReadOnlyList<Parameter> Touches { get; }

    /// <summary>s: the effective step at which the window began.</summary>
    protected long WindowStart { get; private set; }

    /// <summary>e: the last snapshot step observed (the window start before any).</summary>
    protected long LastStep { get; private set; }

    /// <summary>Snapshots observed since the window began.</summary>
    protected int Observed { get; private set; }

    public void Observe(long step)
    {
        if (Observed > 0 && step <= LastStep)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"Jump method '{Name}': snapshot steps must increase; step {step} follows step {LastStep}.");
        OnObserve(step);
        LastStep = step;
        Observed++;
    }

    public void Reset(long windowStart)
    {
        WindowStart = windowStart;
        LastStep = windowStart;
        Observed = 0;
        OnReset();
    }

    public void Apply(double length)
    {
        if (!double.IsFinite(length) || length < 0)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"Jump method '{Name}': a jump length must be finite and 0 or more.");
        long delta = JumpGeometry.Target(LastStep, WindowStart, length) - LastStep;
        if (delta == 0) return;
        if (Observed == 0)
            throw new InvalidOperationException($"Jump method '{Name}' has observed no snapshot in this window; nothing was written.");
        OnApply(delta);
    }

    protected abstract void OnObserve(long step);

    protected abstract void OnReset();

    /// <summary>Writes W_e + the candidate for a jump of <paramref name="delta"/> effective steps beyond e.</summary>
    protected abstract void OnApply(long delta);

    public abstract void Dispose();
}
