using System.Text.Json.Serialization;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>Settings of one jump method; add instances to <see cref="JumpOptions.Methods"/>. The session creates the method.</summary>
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

    /// <summary>The problems with these settings: each names the setting (relative to these options), its value and what is expected.</summary>
    /// <param name="minSnapshots">Snapshots a window has at least when a jump is tried (the session's attempt settings).</param>
    internal virtual IEnumerable<(string Setting, object? Value, string Expected)> Problems(int minSnapshots) => [];

    /// <summary>A copy of these settings (every setting of a jump method is a plain value).</summary>
    internal JumpMethodOptions Clone() => (JumpMethodOptions)MemberwiseClone();

    /// <summary>Creates the method for one session.</summary>
    internal abstract IJumpMethod Create(JumpMethodContext context);
}
