using AlphaRl.TorchSharp.State;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>
/// One way of proposing jumped weights from a window. The window calls <see cref="Observe"/> after each of its
/// snapshots, <see cref="Reset"/> when a new window starts, and <see cref="Apply"/> for each candidate, always on the
/// window's last weights W_e (the guard restores them between candidates). Where the window begins and ends is the
/// window's (<see cref="WindowView"/>); the target step is the planner's (<see cref="AlphaRl.Jumps.JumpGeometry"/>).
/// </summary>
internal interface IJumpMethod : IDisposable
{
    /// <summary>Short name used in outcomes, logs and metrics: "rank1", "velocity" or "direction".</summary>
    string Name { get; }

    /// <summary>Bytes of state this method holds beyond what the tracker already keeps.</summary>
    long MemoryBytes { get; }

    /// <summary>The part of <see cref="MemoryBytes"/> kept in host memory whatever the parameters' device (none by default).</summary>
    long HostMemoryBytes => 0;

    /// <summary>The parameters <see cref="Apply"/> may write; the guard backs these up once per attempt.</summary>
    IReadOnlyList<Parameter> Touches { get; }

    /// <summary>Records the policy's weights at the window's newest snapshot, <paramref name="window"/>.Last.</summary>
    void Observe(WindowView window);

    /// <summary>Forgets the window's running state: a new window begins.</summary>
    void Reset();

    /// <summary>
    /// Writes W_e + the candidate for <paramref name="targetStep"/> (beyond <paramref name="window"/>.Last) into the live
    /// parameters, in place under no_grad, computed in float32 and stored in each parameter's dtype.
    /// </summary>
    /// <exception cref="AlphaRLException">A candidate value is NaN or infinite in the parameter's dtype (the message
    /// names the tensor; some tensors may already be written: the guard restores them).</exception>
    void Apply(WindowView window, long targetStep);

    /// <summary>Adds the method's own state (scalars and tensors) to <paramref name="state"/>.</summary>
    void Save(MethodState state);

    /// <summary>Restores what <see cref="Save"/> wrote (the tensors are copied, not kept); throws naming what does not fit.</summary>
    void Load(MethodState state);
}

/// <summary>Where the window stands: what a jump method may know of it.</summary>
/// <param name="SessionStart">The effective step at which the session began (W0's step).</param>
/// <param name="Start">s, the effective step at which the window began.</param>
/// <param name="Last">e, the window's last snapshot step (s before any).</param>
/// <param name="Observed">Snapshots taken since the window began, the newest included.</param>
internal readonly record struct WindowView(long SessionStart, long Start, long Last, int Observed);

/// <summary>What a session hands a jump method when it creates it: the covered matrices and W0, the fit, the uncovered tensors.</summary>
/// <param name="Tracker">The session's tracker (covered matrices, W0, rank-1 snapshots).</param>
/// <param name="Extrapolator">The trajectory fit of the rank-1 vectors, counted from the session's start.</param>
/// <param name="Uncovered">Trainable parameters the tracker does not cover (embeddings, head, norms, biases), in module order.</param>
/// <param name="CopiesOnCpu">Keep copies taken when the session starts in host memory (as W0's copy is kept).</param>
internal sealed record JumpMethodContext(Tracking.TorchSubspaceTracker Tracker, AlphaRl.Extrapolation.IExtrapolator Extrapolator,
    Func<List<(string Name, Parameter Parameter)>> Uncovered, bool CopiesOnCpu);
