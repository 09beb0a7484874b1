namespace AlphaRl;

/// <summary>
/// Raised when AlphaRL cannot do what was asked with the data it was given: a trajectory that cannot be fitted,
/// a parameter whose shape changed between snapshots, a non-finite update or prediction. The message names the
/// matrix or parameter, what was expected and what was found.
/// </summary>
public class AlphaRLException : Exception
{
    /// <summary>Creates the exception with a message that names the input and the problem.</summary>
    public AlphaRLException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public AlphaRLException(string message, Exception inner) : base(message, inner) { }
}
