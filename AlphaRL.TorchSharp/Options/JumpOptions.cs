using AlphaRl.Jumps;
using AlphaRl.TorchSharp.Jumps;

namespace AlphaRl.TorchSharp;

/// <summary>Which candidates an attempt tries: the jump methods and the lengths or target step (<see cref="AlphaRLOptions.Jumps"/>).</summary>
public sealed class JumpOptions
{
    /// <summary>
    /// The jump methods proposing candidates, tried in this order. Empty (the default) means [<see cref="VelocityJumpOptions"/>]
    /// with its defaults, so <c>Methods = { new DirectionJumpOptions() }</c> yields that method alone.
    /// </summary>
    public IList<JumpMethodOptions> Methods { get; set; } = new List<JumpMethodOptions>();

    /// <summary>
    /// Jump lengths j to propose, in window lengths L = e − s (s: the step the window began at, e: its last snapshot),
    /// so a candidate reaches T = e + round(j·L) (<see cref="JumpGeometry"/>). 0 (stay at W_e) is always included, even
    /// if omitted. Each must be finite and 0 or more. Default <see cref="JumpDefaults.Lengths"/>, [0, 0.5, 1, 1.5, 2, 3, 4, 6, 8].
    /// </summary>
    public IList<double> Lengths { get; set; } = JumpDefaults.Lengths.ToList();

    /// <summary>
    /// An absolute effective step to jump to: each method then proposes a single candidate reaching it (its length
    /// derived as (T − e)/L), instead of the <see cref="Lengths"/> grid. Default none.
    /// </summary>
    public long? TargetStep { get; set; }

    /// <summary>
    /// Evaluations per jump attempt at most, including the one of W_e (j = 0); at least 2. When the grid holds more
    /// candidates, the smallest lengths are evaluated first (for equal lengths, methods in <see cref="Methods"/> order).
    /// Default null: every candidate.
    /// </summary>
    public int? MaxEvaluations { get; set; }

    /// <summary>The methods in effect: <see cref="Methods"/>, or the default method when it is empty.</summary>
    internal IReadOnlyList<JumpMethodOptions> Effective => Methods.Count > 0 ? Methods.ToList() : [new VelocityJumpOptions()];

    internal void Validate(OptionErrors errors, int minSnapshots)
    {
        if (TargetStep is { } target) errors.Require(target > 0, "Jumps.TargetStep", target, "must be a positive step");
        if (MaxEvaluations is { } cap)
            errors.Require(cap >= 2, "Jumps.MaxEvaluations", cap, "must be at least 2 (W_e and one candidate), or null for no limit");
        if (errors.Require(Lengths is not null, "Jumps.Lengths", null, "must be a list of jump lengths (0 or more)"))
        {
            for (int i = 0; i < Lengths!.Count; i++)
                if (JumpDefaults.CheckLength(Lengths[i]) is { } problem) errors.Add($"Jumps.Lengths[{i}]", Lengths[i], problem);
            if (TargetStep is null && !Lengths.Any(j => j > 0))
                errors.AddShown("Jumps.Lengths", $"[{string.Join(", ", Lengths.Select(j => OptionErrors.Format(j)))}]", "needs at least one length above 0 (0 alone never jumps)");
        }
        if (!errors.Require(Methods is not null, "Jumps.Methods", null, "must be a list (empty: the default method)")) return;
        for (int i = 0; i < Methods!.Count; i++)
        {
            if (Methods[i] is not { } method) errors.Add($"Jumps.Methods[{i}]", null, "must be a jump method's options");
            else foreach (var (setting, value, expected) in method.Problems(minSnapshots)) errors.Add($"Jumps.Methods[{i}].{setting}", value, expected);
        }
    }

    internal JumpOptions Clone()
    {
        var copy = (JumpOptions)MemberwiseClone();
        copy.Methods = Methods?.Select(m => m?.Clone()!).ToList()!;
        copy.Lengths = Lengths?.ToList()!;
        return copy;
    }
}
