using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.Benchmarks.Speedup;

/// <summary>A copy of a module's trainable tensors, by name, in host memory: a checkpoint of the benchmark's small model.</summary>
internal sealed class Weights : IDisposable
{
    private Weights(Dictionary<string, Tensor> tensors) => Tensors = tensors;

    public Dictionary<string, Tensor> Tensors { get; }

    public static Weights Of(nn.Module module)
    {
        using var _ = no_grad();
        return new Weights(module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().cpu().clone()));
    }

    public static Weights From(Dictionary<string, Tensor> tensors) => new(tensors);

    /// <summary>Copies these values into the module's parameters (on their device).</summary>
    public void LoadInto(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in module.named_parameters()) parameter.copy_(Tensors[name]);
    }

    /// <summary>A new checkpoint whose tensors are <paramref name="map"/> of (name, this tensor).</summary>
    public Weights Select(Func<string, Tensor, Tensor> map)
    {
        using var _ = no_grad();
        return new Weights(Tensors.ToDictionary(kv => kv.Key, kv => map(kv.Key, kv.Value)));
    }

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
