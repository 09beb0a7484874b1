using System.Text.RegularExpressions;

namespace AlphaRl.TorchSharp;

/// <summary>
/// Which parameters the session covers (<see cref="AlphaRLOptions.Coverage"/>), beyond the default rule (trainable 2-D
/// weights of attention and MLP blocks). A predicate that replaces the rule is behaviour, passed beside the settings
/// (<see cref="SessionServices.Cover"/>).
/// </summary>
public sealed class CoverageOptions
{
    /// <summary>Regular expressions; when any is given, a parameter is covered only if its name matches one (and it is a trainable 2-D tensor).</summary>
    public IList<string> Include { get; set; } = new List<string>();

    /// <summary>Regular expressions of parameter names never covered, applied after the default rule or the include patterns.</summary>
    public IList<string> Exclude { get; set; } = new List<string>();

    internal void Validate(OptionErrors errors)
    {
        Check(Include, "Coverage.Include", errors);
        Check(Exclude, "Coverage.Exclude", errors);
    }

    private static void Check(IList<string>? patterns, string setting, OptionErrors errors)
    {
        if (!errors.Require(patterns is not null, setting, null, "must be a list (possibly empty)")) return;
        for (int i = 0; i < patterns!.Count; i++)
        {
            try
            {
                _ = new Regex(patterns[i] ?? throw new ArgumentNullException(setting));
            }
            catch (ArgumentException e)
            {
                errors.Add($"{setting}[{i}]", patterns[i], $"not a regular expression ({e.Message})");
            }
        }
    }

    internal CoverageOptions Clone() => new() { Include = Include?.ToList()!, Exclude = Exclude?.ToList()! };
}
