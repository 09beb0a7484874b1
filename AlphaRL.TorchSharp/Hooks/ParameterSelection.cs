using System.Text.RegularExpressions;
using AlphaRl.TorchSharp.Tracking;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp;

/// <summary>A parameter AlphaRL does not cover, and why.</summary>
/// <param name="Name">Its name as <c>named_parameters()</c> reports it.</param>
/// <param name="Reason">Why it is not covered, e.g. "embedding" or "not 2-D".</param>
public sealed record ExcludedParameter(string Name, string Reason);

/// <summary>Which parameters a session covers and why the others are not covered.</summary>
/// <param name="Covered">The covered matrices, in <c>named_parameters()</c> order.</param>
/// <param name="Excluded">Every other parameter, with the reason.</param>
public sealed record ParameterCoverage(IReadOnlyList<CoveredMatrix> Covered, IReadOnlyList<ExcludedParameter> Excluded)
{
    /// <summary>
    /// Applies the selection rules to a module. Default rule: every trainable 2-D weight inside an attention or MLP
    /// block (a name with an attention/MLP word such as q_proj, self_attn, mlp, c_fc, or inside a numbered layer);
    /// embeddings, the output head, norms and biases are excluded. <paramref name="cover"/> replaces the rule;
    /// <see cref="CoverageOptions.Include"/> and <see cref="CoverageOptions.Exclude"/> refine it.
    /// </summary>
    /// <param name="module">The policy.</param>
    /// <param name="options">The include and exclude patterns.</param>
    /// <param name="cover">A predicate replacing the rule and the patterns (<see cref="SessionServices.Cover"/>); null: the rule.</param>
    public static ParameterCoverage Select(nn.Module module, CoverageOptions options, Func<string, global::TorchSharp.Modules.Parameter, bool>? cover = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(options);
        var include = options.Include.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();
        var exclude = options.Exclude.Select(p => new Regex(p, RegexOptions.CultureInvariant)).ToList();
        var covered = new List<CoveredMatrix>();
        var excluded = new List<ExcludedParameter>();
        foreach (var (name, parameter) in module.named_parameters())
        {
            string? reason = Reason(name, parameter, cover, include, exclude);
            if (reason is null) covered.Add(new CoveredMatrix(name, parameter));
            else excluded.Add(new ExcludedParameter(name, reason));
        }
        return new ParameterCoverage(covered, excluded);
    }

    private static readonly Regex Embedding = new(@"(^|[._])(embed\w*|wte|wpe|tok_embeddings|pos_embeddings|embeddings?)([._]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex Head = new(@"(^|[._])(lm_head|head|output|classifier|score|value_head|v_head)([._]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex Norm = new(@"(^|[._])(\w*norm\w*|ln_?\w*)([._]|$)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex Block = new(@"(attn|attention|mlp|ffn|feed_forward|q_proj|k_proj|v_proj|o_proj|out_proj|in_proj|gate_proj|up_proj|down_proj|c_attn|c_proj|c_fc|query|key|value|fc\d|linear\d|w[123qkvo])|(^|\.)\d+\.", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static string? Reason(string name, Tensor parameter, Func<string, global::TorchSharp.Modules.Parameter, bool>? cover, List<Regex> include, List<Regex> exclude)
    {
        if (!parameter.requires_grad) return "frozen (requires_grad is false)";
        if (parameter.dim() != 2) return parameter.dim() == 1 ? "not 2-D (bias or norm scale)" : $"not 2-D ({parameter.dim()}-D)";
        if (!parameter.is_floating_point()) return "not a floating-point tensor";
        if (cover is not null)
            return cover(name, (global::TorchSharp.Modules.Parameter)parameter) ? null : "rejected by SessionServices.Cover";
        if (include.Count > 0)
        {
            if (!include.Any(r => r.IsMatch(name))) return "matches no AlphaRLOptions.Coverage.Include pattern";
        }
        else
        {
            if (name.EndsWith("bias", StringComparison.Ordinal)) return "bias";
            if (Embedding.IsMatch(name)) return "embedding";
            if (Head.IsMatch(name)) return "output head";
            if (Norm.IsMatch(name)) return "norm";
            if (!Block.IsMatch(name)) return "not part of an attention or MLP block";
        }
        var excludedBy = exclude.FirstOrDefault(r => r.IsMatch(name));
        return excludedBy is null ? null : $"matches AlphaRLOptions.Coverage.Exclude \"{excludedBy}\"";
    }
}
