using System.Text.Json.Serialization;
using AlphaRl.Extrapolation;
using AlphaRl.TorchSharp.Tracking;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>
/// One way of proposing jumped weights from a window. The session calls <see cref="Observe"/> at every snapshot of
/// the window (after the tracker's), <see cref="Reset"/> when a new window starts, and <see cref="Apply"/> for each
/// candidate jump length, always on the window's last weights W_e (it restores them between candidates).
/// </summary>
public interface IJumpMethod : IDisposable
{
    /// <summary>Short name used in outcomes, logs and metrics: "rank1", "velocity" or "direction".</summary>
    string Name { get; }

    /// <summary>Bytes of state this method holds beyond what the tracker already keeps.</summary>
    long MemoryBytes { get; }

    /// <summary>Records the policy's weights at snapshot step <paramref name="step"/> (effective steps, increasing).</summary>
    void Observe(long step);

    /// <summary>Forgets the window: a new one begins at effective step <paramref name="windowStart"/>.</summary>
    void Reset(long windowStart);

    /// <summary>The parameters <see cref="Apply"/> may write; the session backs these up once per attempt.</summary>
    IReadOnlyList<Parameter> Touches { get; }

    /// <summary>
    /// Writes W_e + the candidate delta for jump length <paramref name="length"/> (in window lengths L = e − s) into
    /// the live parameters, in place under no_grad, computed in float32 and stored in each parameter's dtype. The
    /// target step is e + round(length · L) (<see cref="JumpGeometry.Target"/>). Length 0 writes nothing.
    /// </summary>
    /// <exception cref="AlphaRlException">A candidate value is NaN or infinite in the parameter's dtype (the message
    /// names the tensor; some tensors may already be written: restore from a backup), or the window is too short.</exception>
    void Apply(double length);
}

/// <summary>Settings of one jump method; add instances to <see cref="AlphaRLOptions.Methods"/>. The session creates the method.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "method")]
[JsonDerivedType(typeof(Rank1LineJumpOptions), "rank1")]
[JsonDerivedType(typeof(VelocityJumpOptions), "velocity")]
[JsonDerivedType(typeof(DirectionJumpOptions), "direction")]
public abstract class JumpMethodOptions
{
    private protected JumpMethodOptions() { }

    /// <summary>The method's short name ("rank1", "velocity", "direction").</summary>
    [JsonIgnore]
    public abstract string Name { get; }

    /// <summary>Problems with these settings, each naming the setting and its value; empty when valid.</summary>
    /// <param name="prefix">How the settings are reached from <see cref="AlphaRLOptions"/>, e.g. "Methods[0]".</param>
    /// <param name="session">The session's settings, for limits that depend on them.</param>
    internal virtual IEnumerable<string> Validate(string prefix, AlphaRLOptions session) => [];

    /// <summary>A copy of these settings (every setting of a jump method is a plain value).</summary>
    internal JumpMethodOptions Clone() => (JumpMethodOptions)MemberwiseClone();

    /// <summary>Creates the method for one session.</summary>
    internal abstract IJumpMethod Create(JumpMethodContext context);
}

/// <summary>What a session hands a jump method when it creates it.</summary>
/// <param name="Policy">The policy being trained.</param>
/// <param name="Tracker">The session's tracker (covered matrices, W0, rank-1 snapshots).</param>
/// <param name="Extrapolator">The trajectory fit of the rank-1 vectors.</param>
/// <param name="Options">The session's settings.</param>
/// <param name="Start">The effective step at which the session began (W0's step); known from the session's first Step.</param>
internal sealed record JumpMethodContext(nn.Module Policy, TorchSubspaceTracker Tracker, IExtrapolator Extrapolator, AlphaRLOptions Options, Func<long> Start)
{
    /// <summary>Effective step at which the session began (W0's step).</summary>
    public long SessionStart => Start();

    /// <summary>Trainable parameters the tracker does not cover (embeddings, head, norms, biases), in module order.</summary>
    public List<(string Name, Parameter Parameter)> Uncovered()
    {
        var covered = Tracker.Covered.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        return Policy.named_parameters().Where(p => p.parameter.requires_grad && !covered.Contains(p.name)).ToList();
    }
}

/// <summary>Where a jump of a given length lands.</summary>
public static class JumpGeometry
{
    /// <summary>T = e + round(length · (e − s)): the effective step a jump of <paramref name="length"/> window lengths reaches.</summary>
    /// <param name="last">e, the window's last snapshot step.</param>
    /// <param name="windowStart">s, the step at which the window began.</param>
    /// <param name="length">j, in window lengths.</param>
    public static long Target(long last, long windowStart, double length) => last + (long)Math.Round(length * (last - windowStart));
}
