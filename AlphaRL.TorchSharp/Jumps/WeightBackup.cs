using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace AlphaRl.TorchSharp.Jumps;

/// <summary>
/// One exact copy of a set of parameters, taken once per jump attempt whatever the number of candidates:
/// <see cref="Restore"/> puts the copied values back bit-for-bit (a plain <c>copy_</c> in the same dtype).
/// </summary>
internal sealed class WeightBackup : IDisposable
{
    private readonly List<(Parameter Parameter, Tensor Copy)> _copies = new();

    /// <summary>Copies every distinct parameter of <paramref name="parameters"/>.</summary>
    public WeightBackup(IEnumerable<Parameter> parameters, bool onCpu)
    {
        using var noGrad = no_grad();
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        try
        {
            foreach (var p in parameters)
                if (seen.Add(p)) _copies.Add((p, Copy(p, onCpu)));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Bytes held by the copies.</summary>
    public long Bytes => _copies.Sum(c => c.Copy.NumberOfElements * c.Copy.ElementSize);

    /// <summary>Puts the copied values back, bit-for-bit.</summary>
    public void Restore()
    {
        using var noGrad = no_grad();
        foreach (var (parameter, copy) in _copies) parameter.copy_(copy);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, copy) in _copies) copy.Dispose();
        _copies.Clear();
    }

    /// <summary>A detached copy of <paramref name="p"/> in its dtype, on its device or in host memory; owned by the caller.</summary>
    internal static Tensor Copy(Tensor p, bool onCpu)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var copy = p.detach().clone();
        if (onCpu && copy.device_type != DeviceType.CPU)
        {
            var cpu = copy.cpu();
            copy.Dispose();
            copy = cpu;
        }
        return copy.DetachFromDisposeScope();
    }
}

/// <summary>Writes candidate weights computed in float32 back into a parameter in its own dtype, refusing NaN and infinity.</summary>
internal static class CandidateWriter
{
    /// <summary>Casts <paramref name="updated"/> to the parameter's dtype and copies it in; throws naming the tensor when a value is not finite.</summary>
    public static void Write(string name, Parameter parameter, Tensor updated)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var cast = updated.to(parameter.dtype);
        if (!isfinite(cast).all().item<bool>())
            throw new AlphaRLException($"Jump of '{name}' overflows {parameter.dtype} (NaN or infinity); the weights before the jump are restored.");
        parameter.copy_(cast);
    }
}
