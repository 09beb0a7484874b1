using System.Numerics.Tensors;

namespace AlphaRl.Tracking;

/// <summary>
/// The sign-aligned top singular triplet of one matrix's cumulative update <c>dW_t = W_t − W0</c> at one step:
/// O(m + n) floats, never the m × n update itself.
/// </summary>
/// <param name="Step">Training step t at which the update was taken.</param>
/// <param name="Sigma">Top singular value s1 of dW_t.</param>
/// <param name="U">Left singular vector u1 (length m), sign-aligned with the previous snapshot.</param>
/// <param name="V">Right singular vector v1 (length n), flipped together with U.</param>
/// <param name="UpdateNorm">Frobenius norm of the whole update, when known (for the rank-1 energy share); NaN otherwise.</param>
public sealed record Rank1Snapshot(long Step, float Sigma, float[] U, float[] V, float UpdateNorm = float.NaN)
{
    /// <summary>The tracked vector x_t = s1 · u1 whose trajectory AlphaRL fits.</summary>
    public float[] X()
    {
        var x = new float[U.Length];
        TensorPrimitives.Multiply(U, Sigma, x);
        return x;
    }

    /// <summary>Share of the update's energy in its top component, s1² / ‖dW‖²_F (NaN when the norm is unknown).</summary>
    public double EnergyShare => UpdateNorm > 0 ? (double)Sigma * Sigma / ((double)UpdateNorm * UpdateNorm) : double.NaN;

    /// <summary>Bytes this snapshot stores: (m + n + 2) floats and the step.</summary>
    public long StorageBytes => sizeof(float) * (U.Length + V.Length + 2L) + sizeof(long);
}
