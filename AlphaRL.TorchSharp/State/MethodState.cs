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
        Scalars.TryGetValue(key, out double v) ? v : throw new AlphaRLException($"The saved state of jump method '{method}' has no '{key}'.");

    /// <summary>A copy of saved tensor <paramref name="saved"/> on <paramref name="device"/>, checked to have <paramref name="shape"/> and <paramref name="dtype"/>.</summary>
    public static Tensor Copy(string method, string key, Tensor saved, long[] shape, ScalarType dtype, Device device)
    {
        EnsureFits(method, key, saved, shape, dtype);
        using var scope = NewDisposeScope();
        return saved.to(device).clone().DetachFromDisposeScope();
    }

    /// <summary>Throws, naming the tensor, unless saved tensor <paramref name="saved"/> has <paramref name="shape"/> and <paramref name="dtype"/>.</summary>
    public static void EnsureFits(string method, string key, Tensor saved, long[] shape, ScalarType dtype)
    {
        if (!saved.shape.SequenceEqual(shape) || saved.dtype != dtype)
            throw new AlphaRLException($"The saved state of jump method '{method}' holds '{key}' as {saved.dtype} [{string.Join(", ", saved.shape)}]; the session needs {dtype} [{string.Join(", ", shape)}].");
    }

    public Tensor Tensor(string method, string key) =>
        Tensors.TryGetValue(key, out var t) ? t : throw new AlphaRLException($"The saved state of jump method '{method}' has no tensor '{key}'.");
}
