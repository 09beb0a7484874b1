using TorchSharp;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp.Tracking;

/// <summary>A parameter AlphaRL tracks and may jump, with the shape and dtype it had when tracking began.</summary>
/// <param name="Name">Its name as <c>named_parameters()</c> reports it.</param>
/// <param name="Parameter">The live parameter tensor.</param>
public sealed record CoveredMatrix(string Name, Parameter Parameter)
{
    /// <summary>Rows of the matrix when tracking began.</summary>
    public int Rows { get; } = Parameter.dim() == 2 ? (int)Parameter.shape[0] : throw new ArgumentException($"Parameter '{Name}' is not a matrix: shape [{string.Join(", ", Parameter.shape)}].", nameof(Parameter));

    /// <summary>Columns of the matrix when tracking began.</summary>
    public int Cols { get; } = (int)Parameter.shape[^1];

    /// <summary>Data type of the parameter when tracking began.</summary>
    public torch.ScalarType DType { get; } = Parameter.dtype;

    /// <summary>Throws a clear error when the live parameter no longer has the shape or dtype it started with.</summary>
    internal void EnsureUnchanged()
    {
        if (Parameter.IsInvalid)
            throw new AlphaRlException($"Parameter '{Name}' has been disposed.");
        if (Parameter.dim() != 2 || Parameter.shape[0] != Rows || Parameter.shape[1] != Cols)
            throw new AlphaRlException($"Parameter '{Name}' changed shape: it was [{Rows}, {Cols}] when tracking began and is [{string.Join(", ", Parameter.shape)}] now.");
        if (Parameter.dtype != DType)
            throw new AlphaRlException($"Parameter '{Name}' changed dtype: it was {DType} when tracking began and is {Parameter.dtype} now.");
    }
}
