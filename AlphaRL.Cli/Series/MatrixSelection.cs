using System.Text.RegularExpressions;
using AlphaRl.Checkpoints;

namespace AlphaRl.Cli;

/// <summary>Which tensors are covered (decomposed and extrapolated): 2-D float tensors whose names match an include
/// pattern and no exclude pattern. The default include list is the usual Hugging Face attention and MLP projections.</summary>
internal sealed class MatrixSelection
{
    public static readonly string[] DefaultIncludes =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "c_attn", "c_proj", "c_fc"];

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);
    private readonly Regex[] _include;
    private readonly Regex[] _exclude;

    public MatrixSelection(IReadOnlyList<string>? include = null, IReadOnlyList<string>? exclude = null)
    {
        _include = (include is { Count: > 0 } ? include : DefaultIncludes.Select(Regex.Escape).ToArray()).Select(p => Compile(p, "--include")).ToArray();
        _exclude = (exclude ?? []).Select(p => Compile(p, "--exclude")).ToArray();
    }

    public bool Covers(TensorInfo tensor)
    {
        if (!tensor.IsMatrix || !tensor.DType.IsFloat() || tensor.ElementCount == 0) return false;
        try
        {
            return _include.Any(r => r.IsMatch(tensor.Name)) && !_exclude.Any(r => r.IsMatch(tensor.Name));
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new UsageException($"--include/--exclude pattern '{e.Pattern}' took more than {MatchTimeout.TotalSeconds:0} s on tensor name '{tensor.Name}'; simplify it.");
        }
    }

    /// <summary>The patterns as given (null for the default list), for the snapshot store's manifest.</summary>
    public IReadOnlyList<string> Includes => _include.Select(r => r.ToString()).ToArray();

    /// <summary>The exclude patterns.</summary>
    public IReadOnlyList<string> Excludes => _exclude.Select(r => r.ToString()).ToArray();

    private static Regex Compile(string pattern, string option)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{option} '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }
}
