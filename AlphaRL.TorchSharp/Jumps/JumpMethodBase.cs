using AlphaRl.TorchSharp.State;
using TorchSharp.Modules;
using static TorchSharp.torch;

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

    /// <summary>Writes the window's counters and the method's own state into <paramref name="state"/>.</summary>
    internal void Save(MethodState state)
    {
        state.Scalars["windowStart"] = WindowStart;
        state.Scalars["lastStep"] = LastStep;
        state.Scalars["observed"] = Observed;
        OnSave(state);
    }

    /// <summary>Puts back what <see cref="Save"/> wrote (the tensors are copied, not kept).</summary>
    internal void Load(MethodState state)
    {
        WindowStart = (long)state.Scalar(Name, "windowStart");
        LastStep = (long)state.Scalar(Name, "lastStep");
        Observed = (int)state.Scalar(Name, "observed");
        OnLoad(state);
    }

    /// <summary>Adds the method's own state (scalars and tensors) to <paramref name="state"/>.</summary>
    protected virtual void OnSave(MethodState state) { }

    /// <summary>Restores the method's own state from <paramref name="state"/>.</summary>
    protected virtual void OnLoad(MethodState state) { }

    /// <summary>A copy of saved tensor <paramref name="saved"/>, checked to have <paramref name="shape"/> and <paramref name="dtype"/>, on <paramref name="device"/>.</summary>
    protected Tensor Restored(string key, Tensor saved, long[] shape, ScalarType dtype, Device device)
    {
        if (!saved.shape.SequenceEqual(shape) || saved.dtype != dtype)
            throw new AlphaRlException($"The saved state of jump method '{Name}' holds '{key}' as {saved.dtype} [{string.Join(", ", saved.shape)}]; the session needs {dtype} [{string.Join(", ", shape)}].");
        using var scope = NewDisposeScope();
        return saved.to(device).clone().DetachFromDisposeScope();
    }

    protected abstract void OnObserve(long step);

    protected abstract void OnReset();

    /// <summary>Writes W_e + the candidate for a jump of <paramref name="delta"/> effective steps beyond e.</summary>
    protected abstract void OnApply(long delta);

    public abstract void Dispose();
}
