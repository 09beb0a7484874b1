using TorchSharp;
using TorchSharp.Modules;

namespace AlphaRl.TorchSharp.Tracking;

/// <summary>A parameter AlphaRL tracks and may jump, with the shape and dtype it had when tracking began.</summary>
public sealed class CoveredMatrix
{
    /// <summary>Starts covering <paramref name="parameter"/> under <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The parameter is not 2-D.</exception>
    public CoveredMatrix(string name, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(parameter);
        if (parameter.dim() != 2)
            throw new ArgumentException($"Parameter '{name}' is not a matrix: shape [{string.Join(", ", parameter.shape)}].", nameof(parameter));
        Name = name;
        Parameter = parameter;
        Rows = (int)parameter.shape[0];
        Cols = (int)parameter.shape[1];
        DType = parameter.dtype;
    }

    /// <summary>Its name as <c>named_parameters()</c> reports it.</summary>
    public string Name { get; }

    /// <summary>The live parameter tensor.</summary>
    public Parameter Parameter { get; private set; }

    /// <summary>Rows of the matrix when tracking began.</summary>
    public int Rows { get; }

    /// <summary>Columns of the matrix when tracking began.</summary>
    public int Cols { get; }

    /// <summary>Data type of the parameter when tracking began.</summary>
    public torch.ScalarType DType { get; }

    /// <summary>Follows the module when it replaced this parameter's tensor (as <c>module.to(device)</c> does).</summary>
    internal void Rebind(Parameter parameter) => Parameter = parameter;

    /// <summary>Throws a clear error when the live parameter no longer has the shape or dtype it started with.</summary>
    internal void EnsureUnchanged()
    {
        if (Parameter.IsInvalid)
            throw new AlphaRLException($"Parameter '{Name}' has been disposed. If the module was converted with .to(...) after tracking began, start tracking again after the conversion.");
        if (Parameter.dim() != 2 || Parameter.shape[0] != Rows || Parameter.shape[1] != Cols)
            throw new AlphaRLException($"Parameter '{Name}' changed shape: it was [{Rows}, {Cols}] when tracking began and is [{string.Join(", ", Parameter.shape)}] now.");
        if (Parameter.dtype != DType)
            throw new AlphaRLException($"Parameter '{Name}' changed dtype: it was {DType} when tracking began and is {Parameter.dtype} now.");
    }
}
