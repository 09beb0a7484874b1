using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.State;

/// <summary>
/// One jump method's state between snapshots: scalars (saved in the session's JSON) and tensors (saved in its
/// safetensors file under "methods/{index}/{key}"). On save the tensors are the method's own (not copied); on load they
/// are host copies the method copies from (the session disposes them).
/// </summary>
internal sealed class MethodState
{
    public Dictionary<string, double> Scalars { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, Tensor> Tensors { get; init; } = new(StringComparer.Ordinal);

    public double Scalar(string method, string key) =>
        Scalars.TryGetValue(key, out double v) ? v : throw new AlphaRlException($"The saved state of jump method '{method}' has no '{key}'.");

    public Tensor Tensor(string method, string key) =>
        Tensors.TryGetValue(key, out var t) ? t : throw new AlphaRlException($"The saved state of jump method '{method}' has no tensor '{key}'.");
}
