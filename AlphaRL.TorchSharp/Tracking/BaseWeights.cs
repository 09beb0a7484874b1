using TorchSharp;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Tracking;

/// <summary>
/// One copy of W0 for each covered matrix, in the parameter's dtype, on the parameter's device or on the CPU.
/// Disposing it frees the copies.
/// </summary>
public sealed class BaseWeights : IDisposable
{
    private readonly Dictionary<string, Tensor> _base = new(StringComparer.Ordinal);

    /// <summary>Copies the current values of <paramref name="matrices"/> as W0.</summary>
    /// <param name="matrices">The covered matrices.</param>
    /// <param name="onCpu">Keep the copies in host memory (saves device memory; each snapshot then moves W0 to the device).</param>
    public BaseWeights(IEnumerable<CoveredMatrix> matrices, bool onCpu)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        OnCpu = onCpu;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var m in matrices)
        {
            var copy = m.Parameter.detach().clone();
            if (onCpu) copy = MoveToCpu(copy);
            _base.Add(m.Name, copy.DetachFromDisposeScope());
        }
    }

    /// <summary>Whether W0 lives in host memory.</summary>
    public bool OnCpu { get; }

    /// <summary>Bytes held by the W0 copies.</summary>
    public long Bytes => _base.Values.Sum(t => t.NumberOfElements * t.ElementSize);

    /// <summary>W0 of one matrix (owned by this store; do not dispose).</summary>
    public Tensor this[string name] => _base.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"No base weights for '{name}'.");

    /// <summary>dW = W_t − W0 in float32 on the parameter's device. The result belongs to the caller's dispose scope.</summary>
    public Tensor UpdateOf(CoveredMatrix matrix)
    {
        var w0 = this[matrix.Name];
        var current = matrix.Parameter.detach().to(ScalarType.Float32);
        return current - w0.to(current.device).to(ScalarType.Float32);
    }

    /// <summary>Replaces W0 of <paramref name="name"/> by <paramref name="saved"/> (a resumed session's W0), bit-exact.</summary>
    /// <exception cref="AlphaRLException">The saved tensor's shape or dtype differs from the parameter's.</exception>
    internal void Restore(string name, Tensor saved)
    {
        var w0 = this[name];
        if (!w0.shape.SequenceEqual(saved.shape) || w0.dtype != saved.dtype)
            throw new AlphaRLException($"The saved W0 of '{name}' is {saved.dtype} [{string.Join(", ", saved.shape)}]; the policy's parameter is {w0.dtype} [{string.Join(", ", w0.shape)}].");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        w0.copy_(saved.to(w0.device));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var t in _base.Values) t.Dispose();
        _base.Clear();
    }

    private static Tensor MoveToCpu(Tensor t)
    {
        if (t.device_type == DeviceType.CPU) return t;
        var cpu = t.cpu();
        t.Dispose();
        return cpu;
    }
}
