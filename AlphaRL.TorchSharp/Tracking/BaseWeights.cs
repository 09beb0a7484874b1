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
