using static TorchSharp.torch;

namespace AlphaRl.Tests.Workloads;

/// <summary>Weight comparisons between modules with the same parameter names.</summary>
internal static class WorkloadWeights
{
    /// <summary>A detached copy of every parameter, by name.</summary>
    public static Dictionary<string, Tensor> Copy(nn.Module module) =>
        module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope());

    /// <summary>Whether every parameter of <paramref name="module"/> is bit-identical to <paramref name="weights"/>.</summary>
    public static bool Equal(nn.Module module, IReadOnlyDictionary<string, Tensor> weights)
    {
        var live = module.named_parameters().ToList();
        return live.Count == weights.Count && live.All(p => weights.TryGetValue(p.name, out var w) && Same(p.parameter, w));
    }

    /// <summary>Whether every parameter of two modules is bit-identical.</summary>
    public static bool Equal(nn.Module a, nn.Module b) =>
        Equal(a, b.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter));

    /// <summary>Parameters of <paramref name="module"/> that differ from <paramref name="weights"/>.</summary>
    public static List<string> Changed(nn.Module module, IReadOnlyDictionary<string, Tensor> weights) =>
        module.named_parameters().Where(p => !Same(p.parameter, weights[p.name])).Select(p => p.name).ToList();

    /// <summary>Same shape, dtype and every element equal.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    public static void Dispose(Dictionary<string, Tensor> weights)
    {
        foreach (var t in weights.Values) t.Dispose();
    }
}
